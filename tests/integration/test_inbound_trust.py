"""Inbound authentication over real SMTP on both databases: SPF, DKIM, DMARC and ARC against a loopback DNS server.

Each sender domain publishes its records on the test's own authoritative DNS server; messages are signed with the
tests' keys and delivered with smtplib from 127.0.0.1 into the real aiosmtpd server of an in-process runtime.
"""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.dns_server import DnsTestServer, dns_test_server
from tests.support.mailroom import HOST, Mailroom
from tests.support.trust import ProxiedSMTP, arc_sealed, message, publish_sender, signed, split_verdict


@pytest.fixture
def dns() -> Iterator[DnsTestServer]:
    with dns_test_server() as server:
        yield server


@pytest.fixture
def mailroom(database_url: str, tmp_path: Path, dns: DnsTestServer) -> Iterator[Mailroom]:
    room = Mailroom(database_url, tmp_path, dns)
    yield room
    room.close()


def results(message: dict[str, Any]) -> str:
    return str(message["headers"]["Authentication-Results"])


def test_spf_dkim_and_dmarc_pass_is_received(mailroom: Mailroom, dns: DnsTestServer) -> None:
    publish_sender(dns, "good.test", dmarc="v=DMARC1; p=reject")
    raw = signed(message("Alice <alice@good.test>", mailroom.inbox_id), "good.test")
    mailroom.deliver("alice@good.test", raw)
    stored = mailroom.only_message()
    assert stored["labels"] == ["received", "unread"]
    header = results(stored)
    assert header.startswith(f"{HOST};")
    for clause in ("spf=pass", "smtp.mailfrom=alice@good.test", "dkim=pass", "header.d=good.test", "dmarc=pass"):
        assert clause in header
    added, sender_bytes = split_verdict(mailroom.raw(stored["message_id"]))
    assert added.startswith(b"Return-Path: <alice@good.test>\r\nAuthentication-Results: " + HOST.encode() + b";")
    assert sender_bytes == raw  # the sender's bytes, byte for byte, below the verdict
    assert mailroom.event_types() == ["message.received"]


def test_forged_from_under_p_reject_is_refused_at_data(mailroom: Mailroom, dns: DnsTestServer) -> None:
    publish_sender(dns, "strict.test", spf="v=spf1 ip4:192.0.2.1 -all", dmarc="v=DMARC1; p=reject")
    publish_sender(dns, "evil.test")
    raw = message("CEO <ceo@strict.test>", mailroom.inbox_id, subject="Wire the money")
    with pytest.raises(smtplib.SMTPDataError) as refused:
        mailroom.deliver("attacker@evil.test", raw)
    assert refused.value.smtp_code == 550
    assert refused.value.smtp_error.startswith(b"5.7.1 DMARC policy of strict.test rejects")
    assert mailroom.messages() == []
    assert mailroom.event_types() == []


def test_forged_from_under_p_none_is_unauthenticated_and_hidden(mailroom: Mailroom, dns: DnsTestServer) -> None:
    publish_sender(dns, "lax.test", spf="v=spf1 ip4:192.0.2.1 -all", dmarc="v=DMARC1; p=none")
    publish_sender(dns, "evil.test")
    mailroom.deliver("attacker@evil.test", message("Boss <boss@lax.test>", mailroom.inbox_id))
    stored = mailroom.only_message()
    assert stored["labels"] == ["unauthenticated", "unread"]
    assert "dmarc=fail" in results(stored)
    assert "header.from=lax.test" in results(stored)
    assert mailroom.event_types() == ["message.received.unauthenticated"]
    default = mailroom.client.get(f"/v0/inboxes/{mailroom.inbox_id}/messages")
    assert default.json()["messages"] == []  # hidden unless asked for with include_unauthenticated


def test_broken_body_hash_is_a_dkim_fail(mailroom: Mailroom, dns: DnsTestServer) -> None:
    publish_sender(dns, "signer.test", spf="v=spf1 -all", dmarc="v=DMARC1; p=none")
    raw = signed(message("Sam <sam@signer.test>", mailroom.inbox_id, body="Pay invoice 1.\r\n"), "signer.test")
    tampered = raw.replace(b"Pay invoice 1.", b"Pay invoice 9.")
    mailroom.deliver("sam@signer.test", tampered)
    stored = mailroom.only_message()
    assert 'dkim=fail reason="body hash did not verify" header.d=signer.test' in results(stored)
    assert "spf=fail" in results(stored)
    assert stored["labels"] == ["unauthenticated", "unread"]


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ("v=spf1 ~all", "spf=softfail"),
        ("v=spf1 ?all", "spf=neutral"),
        ("v=spf1 nonsense:x -all", "spf=permerror"),
        (None, "spf=temperror"),
    ],
)
def test_spf_results_other_than_pass_are_unauthenticated(
    mailroom: Mailroom, dns: DnsTestServer, record: str | None, expected: str
) -> None:
    if record is None:
        dns.publish("spf.test", "A", "192.0.2.1")
        dns.fail("spf.test")  # SERVFAIL: DNS did not answer
    else:
        dns.publish("spf.test", "TXT", record)
    mailroom.deliver("bob@spf.test", message("bob@spf.test", mailroom.inbox_id))
    stored = mailroom.only_message()
    assert f"{expected} " in results(stored)
    assert "smtp.mailfrom=bob@spf.test" in results(stored)
    assert stored["labels"] == ["unauthenticated", "unread"]


def test_dns_timeout_stores_the_message_unauthenticated(mailroom: Mailroom, dns: DnsTestServer) -> None:
    dns.drop("slow.test")  # never answers: the lookup times out
    mailroom.deliver("carol@slow.test", message("carol@slow.test", mailroom.inbox_id))
    stored = mailroom.only_message()
    assert "spf=temperror" in results(stored)
    assert stored["labels"] == ["unauthenticated", "unread"]


def test_subdomain_policy_applies_to_subdomains(mailroom: Mailroom, dns: DnsTestServer) -> None:
    publish_sender(dns, "parent.test", spf="v=spf1 -all", dmarc="v=DMARC1; p=none; sp=reject")
    publish_sender(dns, "evil.test")
    with pytest.raises(smtplib.SMTPDataError) as refused:
        mailroom.deliver("attacker@evil.test", message("it@branch.parent.test", mailroom.inbox_id))
    assert refused.value.smtp_code == 550
    assert b"branch.parent.test" in refused.value.smtp_error
    mailroom.deliver("attacker@evil.test", message("it@parent.test", mailroom.inbox_id))  # p=none at the apex
    assert mailroom.only_message()["labels"] == ["unauthenticated", "unread"]


def test_pct_zero_applies_quarantine_instead_of_reject(mailroom: Mailroom, dns: DnsTestServer) -> None:
    publish_sender(dns, "trial.test", spf="v=spf1 -all", dmarc="v=DMARC1; p=reject; pct=0")
    publish_sender(dns, "evil.test")
    mailroom.deliver("attacker@evil.test", message("hr@trial.test", mailroom.inbox_id))
    stored = mailroom.only_message()
    assert "applied quarantine after pct" in results(stored)
    assert stored["labels"] == ["unauthenticated", "unread"]


def test_aligned_spf_pass_without_dmarc_record_is_received(mailroom: Mailroom, dns: DnsTestServer) -> None:
    dns.publish("plain.test", "TXT", "v=spf1 ip4:127.0.0.1 -all")
    mailroom.deliver("dora@plain.test", message("Dora <dora@plain.test>", mailroom.inbox_id))
    stored = mailroom.only_message()
    assert "spf=pass" in results(stored)
    assert "dmarc=none" in results(stored)
    assert stored["labels"] == ["received", "unread"]


def forwarded(inbox_id: str, dns: DnsTestServer) -> bytes:
    """A p=reject sender's signed message, its body changed by a list (DKIM now fails), ARC-sealed by the list."""
    publish_sender(dns, "origin.test", spf="v=spf1 ip4:192.0.2.1 -all", dmarc="v=DMARC1; p=reject")
    publish_sender(dns, "lists.test")
    raw = signed(message("Olga <olga@origin.test>", inbox_id, body="Meeting at 10.\r\n"), "origin.test")
    with_footer = raw + b"-- \r\nYou are subscribed to team@lists.test\r\n"
    results = (
        "dkim=pass header.d=origin.test; spf=pass smtp.mailfrom=olga@origin.test; dmarc=pass header.from=origin.test"
    )
    return arc_sealed(with_footer, "lists.test", results)


def test_arc_sealed_forward_from_a_trusted_sealer_is_received(
    database_url: str, tmp_path: Path, dns: DnsTestServer
) -> None:
    room = Mailroom(database_url, tmp_path, dns, arc_trusted_sealers="lists.test")
    try:
        room.deliver("bounces@lists.test", forwarded(room.inbox_id, dns))
        stored = room.only_message()
        header = results(stored)
        assert "dkim=fail" in header
        assert "dmarc=fail" in header
        assert "arc=pass" in header
        assert "header.as-d=lists.test" in header
        assert "smtp.remote-ip=127.0.0.1" in header
        assert "trusted ARC sealer lists.test saw DMARC pass" in header
        assert stored["labels"] == ["received", "unread"]
    finally:
        room.close()


def test_arc_seal_of_an_untrusted_forwarder_does_not_override_p_reject(mailroom: Mailroom, dns: DnsTestServer) -> None:
    with pytest.raises(smtplib.SMTPDataError) as refused:
        mailroom.deliver("bounces@lists.test", forwarded(mailroom.inbox_id, dns))
    assert refused.value.smtp_code == 550
    assert mailroom.messages() == []


RELAYED = (
    b"Received: from mail.relayed.test (mail.relayed.test [192.0.2.10])\r\n"
    b"\tby relay.postroom.test; Mon, 6 Jan 2025 10:00:00 +0000\r\n"
)


def test_trusted_relay_received_header_names_the_client(database_url: str, tmp_path: Path, dns: DnsTestServer) -> None:
    publish_sender(dns, "relayed.test", spf="v=spf1 ip4:192.0.2.10 -all", dmarc="v=DMARC1; p=reject")
    room = Mailroom(database_url, tmp_path, dns, smtp_trusted_relays="127.0.0.1")
    try:
        room.deliver("rita@relayed.test", RELAYED + message("rita@relayed.test", room.inbox_id))
        stored = room.only_message()
        assert "spf=pass" in results(stored)
        assert stored["labels"] == ["received", "unread"]
    finally:
        room.close()


def test_received_header_from_an_untrusted_peer_is_just_text(mailroom: Mailroom, dns: DnsTestServer) -> None:
    publish_sender(dns, "relayed.test", spf="v=spf1 ip4:192.0.2.10 -all", dmarc="v=DMARC1; p=reject")
    with pytest.raises(smtplib.SMTPDataError) as refused:  # 127.0.0.1 is not allowed to send for relayed.test
        mailroom.deliver("rita@relayed.test", RELAYED + message("rita@relayed.test", mailroom.inbox_id))
    assert refused.value.smtp_code == 550


def test_proxy_protocol_source_address_from_a_trusted_relay(
    database_url: str, tmp_path: Path, dns: DnsTestServer
) -> None:
    publish_sender(dns, "proxied.test", spf="v=spf1 ip4:192.0.2.20 -all", dmarc="v=DMARC1; p=reject")
    room = Mailroom(database_url, tmp_path, dns, smtp_trusted_relays="127.0.0.0/8", smtp_proxy_protocol=True)
    try:

        def through_proxy(port: int) -> None:
            with ProxiedSMTP("192.0.2.20", "127.0.0.1", port, local_hostname="client.example", timeout=60) as smtp:
                smtp.sendmail("pia@proxied.test", [room.inbox_id], message("pia@proxied.test", room.inbox_id))

        room.smtp(through_proxy)
        assert "spf=pass" in results(room.only_message())
    finally:
        room.close()


def test_proxy_header_from_an_untrusted_peer_is_refused(database_url: str, tmp_path: Path, dns: DnsTestServer) -> None:
    room = Mailroom(database_url, tmp_path, dns, smtp_trusted_relays="10.0.0.0/8", smtp_proxy_protocol=True)
    try:

        def through_proxy(port: int) -> None:
            with pytest.raises(smtplib.SMTPServerDisconnected):
                ProxiedSMTP("192.0.2.20", "127.0.0.1", port, timeout=60)

        room.smtp(through_proxy)
        assert room.messages() == []
    finally:
        room.close()


def test_malformed_signatures_and_identities_never_lose_mail(mailroom: Mailroom, dns: DnsTestServer) -> None:
    raw = (
        b"DKIM-Signature: v=1; this is not a signature\r\n"
        b"ARC-Seal: i=1; a=rsa-sha256; garbage\r\n"
        b"From: =?utf-8?q?=FF?= <odd@@broken>\r\nSubject: junk\r\n\r\nbody\r\n"
    )
    mailroom.deliver('"we ird"@spf.test', raw, helo="[192.0.2.1]")
    stored = mailroom.only_message()
    assert stored["labels"] == ["unauthenticated", "unread"]
    assert "dkim=permerror" in results(stored)
    assert "dmarc=permerror" in results(stored)


@pytest.mark.parametrize("max_seconds", [300.0, 0.0])
def test_a_burst_from_one_sender_reads_its_records_once(database_url: str, tmp_path: Path, max_seconds: float) -> None:
    """Answers are reused for their TTL (60 s here); POSTROOM_DNS_CACHE_MAX_SECONDS=0 asks DNS for every message."""
    with dns_test_server(ttl=60) as dns:
        room = Mailroom(database_url, tmp_path, dns, dns_cache_max_seconds=max_seconds)
        try:
            publish_sender(dns, "good.test", dmarc="v=DMARC1; p=reject")
            for number in range(3):
                raw = signed(message("Alice <alice@good.test>", room.inbox_id, subject=f"burst {number}"), "good.test")
                room.deliver("alice@good.test", raw)
            stored = room.messages()
            assert len(stored) == 3
            assert all("dmarc=pass" in results(item) and "dkim=pass" in results(item) for item in stored)
            # SPF, the DKIM key and DMARC of the sender (the HELO name publishes nothing: asked every time)
            asked = [name for name, kind in dns.queries if kind == "TXT" and name.endswith("good.test")]
            assert {"good.test", "_dmarc.good.test"} <= set(asked)
            assert any(name.endswith("._domainkey.good.test") for name in asked)
            for name in set(asked):
                assert asked.count(name) == (1 if max_seconds else 3), (name, asked)
        finally:
            room.close()
