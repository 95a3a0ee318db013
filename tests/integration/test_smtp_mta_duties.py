"""The inbound server's duties as an MTA, over real SMTP on both databases: Return-Path and Received trace fields on
the stored copy (client-chosen names made harmless, the sender's bytes and DKIM intact, the API's view unchanged),
ENHANCEDSTATUSCODES advertised and used on every reply, and no AUTH on the MX, before or after STARTTLS."""

from __future__ import annotations

import re
import smtplib
import socket
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import dkim
import trustme
from fastapi.testclient import TestClient

from postroom.delivery.dkim import public_txt
from postroom.mime.parse import parse_message
from postroom.mime.received import received_from
from postroom.runtime import Runtime
from tests.integration.test_smtp_limits import SENDER, new_inbox, options, raw_of, stored, with_smtp
from tests.support.trust import key_for, signed, split_verdict

ENHANCED = re.compile(rb"^[245]\d\d[ -][245]\.\d{1,3}\.\d{1,3} ")


def original(inbox_id: str, subject: str = "Trace me") -> bytes:
    return (
        f"From: Ann <{SENDER}>\r\nTo: {inbox_id}\r\nSubject: {subject}\r\nMessage-ID: <{subject.replace(' ', '-')}"
        "@example.org>\r\nDate: Mon, 06 Jan 2025 10:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "Hello, agent.\r\n"
    ).encode()


def fields_of(added: bytes) -> dict[str, str]:
    """The header fields Postroom put on top, unfolded: name → value."""
    unfolded = re.sub(rb"\r\n[ \t]", b" ", added).decode()
    return dict(line.split(": ", 1) for line in unfolded.split("\r\n") if line)


def deliver(runtime: Runtime, mail_from: str, to: list[str], raw: bytes, helo: str = "client.example") -> None:
    def talk(port: int) -> dict[str, Any]:
        with smtplib.SMTP("127.0.0.1", port, local_hostname=helo, timeout=30) as smtp:
            return smtp.sendmail(mail_from, to, raw)

    assert with_smtp(runtime, options(), talk) == {}


def test_stored_mail_gets_return_path_and_received_on_top_of_intact_signed_bytes(
    runtime: Runtime, client: TestClient
) -> None:
    inbox_id = new_inbox(client)
    sent = signed(original(inbox_id), "example.org")
    deliver(runtime, SENDER, [inbox_id], sent)

    [kept] = stored(client, inbox_id)
    raw = raw_of(client, inbox_id, kept["message_id"])
    added, below = split_verdict(raw)
    assert below == sent
    fields = fields_of(added)
    assert list(fields) == ["Return-Path", "Authentication-Results", "Received"]
    assert fields["Return-Path"] == f"<{SENDER}>"
    assert re.fullmatch(
        r"from client\.example \(\[127\.0\.0\.1\]\) by mx\.test with ESMTP id [0-9a-z]{26} "
        rf"for <{re.escape(inbox_id)}>; \w{{3}}, \d\d \w{{3}} \d{{4}} \d\d:\d\d:\d\d \+0000",
        fields["Received"],
    ), fields["Received"]
    key = key_for("example.org")

    def dns(name: bytes, timeout: int = 5) -> bytes | None:
        return public_txt(key).encode() if name.decode().rstrip(".") == "s1._domainkey.example.org" else None

    assert dkim.verify(raw, dnsfunc=dns)  # the sender's signature still verifies under the added fields
    parsed = parse_message(sent, fallback_domain="postroom.localhost")
    assert (kept["subject"], kept["from"], kept["to"]) == (parsed.subject, "Ann <ann@example.org>", [inbox_id])
    detail = client.get(f"/v0/inboxes/{inbox_id}/messages/{kept['message_id']}").json()
    assert detail["text"] == parsed.text
    assert detail["message_id"] == parsed.message_id


def test_a_bounce_gets_an_empty_return_path_and_several_recipients_no_for_clause(
    runtime: Runtime, client: TestClient
) -> None:
    first, second = new_inbox(client, "one"), new_inbox(client, "two")
    deliver(runtime, "", [first, second], original(first, "Null sender"))
    for inbox_id in (first, second):
        listed = client.get(f"/v0/inboxes/{inbox_id}/messages", params={"include_unauthenticated": "true"})
        [kept] = listed.json()["messages"]  # no sender, so no SPF: unauthenticated
        fields = fields_of(split_verdict(raw_of(client, inbox_id, kept["message_id"]))[0])
        assert fields["Return-Path"] == "<>"
        assert " for <" not in fields["Received"]  # no copy names the other recipients


def test_client_chosen_names_cannot_forge_or_break_the_trace_fields(runtime: Runtime, client: TestClient) -> None:
    inbox_id = new_inbox(client)
    helo = "evil.example (forged [10.0.0.1]) by mx.google.com; Mon, 1 Jan 2024"
    mail_from = '"a b;(c)<d>"@example.org'
    deliver(runtime, mail_from, [inbox_id], original(inbox_id, "Hostile"), helo=helo)

    [kept] = stored(client, inbox_id)
    raw = raw_of(client, inbox_id, kept["message_id"])
    fields = fields_of(split_verdict(raw)[0])
    received = fields["Received"]
    assert received.count(";") == 1
    assert received.count("(") == 1
    assert " by " not in received.split("(")[0]
    assert received.startswith("from evil.example??forged??10.0.0.1???by?mx.google.com??Mon??1?Jan?2024 ([127.0.0.1])")
    [ours] = received_from(raw, limit=1)
    assert ours.ip == "127.0.0.1"  # what a later reader of the trace finds is the real client address
    return_path = fields["Return-Path"]
    assert return_path == "<?a?b??c??d??@example.org>"


def _conversation(
    port: int, lines: list[bytes], wrap: Callable[[socket.socket], socket.socket] | None = None
) -> list[list[bytes]]:
    """Each reply (all its lines) to the banner and then to each of ``lines``, sent one at a time."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        stream: IO[bytes] = sock.makefile("rb")
        replies = [_reply(stream)]
        for line in lines:
            sock.sendall(line + b"\r\n")
            replies.append(_reply(stream))
        return replies


def _reply(stream: IO[bytes]) -> list[bytes]:
    lines = [stream.readline().rstrip(b"\r\n")]
    while lines[-1][3:4] == b"-":
        lines.append(stream.readline().rstrip(b"\r\n"))
    return lines


def test_every_reply_but_the_greetings_carries_an_enhanced_status_code(runtime: Runtime, client: TestClient) -> None:
    inbox_id = new_inbox(client)
    commands = [
        b"AUTH PLAIN AGFubgBzZWNyZXQ=",  # before EHLO
        b"MAIL FROM:<ann@example.org>",  # before EHLO
        b"EHLO client.example",
        b"AUTH PLAIN AGFubgBzZWNyZXQ=",
        b"AUTH LOGIN",
        b"MAIL FROM:<ann@example.org>",
        b"MAIL FROM:<ann@example.org>",  # nested
        f"RCPT TO:<{inbox_id}>".encode(),
        b"RCPT TO:<nobody@postroom.localhost>",
        b"RCPT TO:<bad",
        b"NOOP",
        b"VRFY ann",
        b"RSET",
        b"DATA",
        b"BOGUS",
        b"STARTTLS",
        b"QUIT",
    ]
    banner, *replies, quit_reply = with_smtp(runtime, options(), lambda port: _conversation(port, commands))
    assert banner == [b"220 mx.test Postroom ESMTP"]
    (
        auth_before,
        mail_before,
        ehlo,
        auth,
        auth_login,
        mail,
        nested,
        rcpt,
        unknown,
        bad,
        noop,
        vrfy,
        rset,
        data,
        bogus,
        tls,
    ) = replies
    assert b"250-ENHANCEDSTATUSCODES" in ehlo
    assert not [line for line in ehlo if b"AUTH" in line]
    assert auth_before[0].startswith(b"503 5.5.1 ")
    assert auth == auth_login == [b"502 5.5.1 AUTH not available on this server (it receives mail, it takes no logins)"]
    assert mail == [b"250 2.1.0 Sender ok"]
    assert rcpt == [b"250 2.1.5 Recipient ok"]
    assert unknown[0].startswith(b"550 5.1.1 ")
    assert noop == rset == [b"250 2.0.0 OK"]
    assert tls[0].startswith(b"454 4.7.0 ")  # this server has no certificate
    assert quit_reply == [b"221 2.0.0 Bye"]
    for reply in [auth_before, mail_before, auth, mail, nested, rcpt, unknown, bad, noop, vrfy, rset, data, bogus, tls]:
        assert all(ENHANCED.match(line) for line in reply), reply


def test_after_starttls_the_mx_offers_no_auth_and_records_esmtps(
    runtime: Runtime, client: TestClient, tmp_path: Path
) -> None:
    inbox_id = new_inbox(client)
    ca = trustme.CA()
    certificate = ca.issue_cert("mx.test")
    certificate.cert_chain_pems[0].write_to_path(str(tmp_path / "cert.pem"))
    certificate.private_key_pem.write_to_path(str(tmp_path / "key.pem"))
    context = ssl.create_default_context()
    ca.configure_trust(context)
    context.check_hostname = False

    def talk(port: int) -> tuple[tuple[int, bytes], str, dict[str, Any]]:
        with smtplib.SMTP("127.0.0.1", port, local_hostname="client.example", timeout=30) as smtp:
            smtp.ehlo()
            ready = smtp.starttls(context=context)
            smtp.ehlo()
            features = dict(smtp.esmtp_features)
            return ready, features.get("auth", "-"), smtp.sendmail(SENDER, [inbox_id], original(inbox_id, "Over TLS"))

    smtp_options = options(tls_cert=tmp_path / "cert.pem", tls_key=tmp_path / "key.pem")
    ready, auth, refused = with_smtp(runtime, smtp_options, talk)
    assert ready == (220, b"2.0.0 Ready to start TLS")
    assert auth == "-"
    assert refused == {}
    [kept] = stored(client, inbox_id)
    fields = fields_of(split_verdict(raw_of(client, inbox_id, kept["message_id"]))[0])
    assert " with ESMTPS id " in fields["Received"]
