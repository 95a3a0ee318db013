"""Interop with a real MTA: Debian's Postfix on loopback as the peer in both directions, over STARTTLS both ways.

Postfix relays into Postroom (the message arrives intact under Postroom's Return-Path and Received fields, its DKIM
signature still verifying; Postfix sees ENHANCEDSTATUSCODES and no AUTH), and Postroom sends to Postfix, which
refuses non-FQDN HELO names (Postroom's fully-qualified EHLO is accepted, the mail is DKIM-signed and lands in a
mailbox file; a 450 is retried, a 550 bounces, Postfix's own DSN to the VERP return path bounces the recipient).
One Postroom (SQLite: this is about the wire, not storage) and one Postfix serve the whole module.
"""

from __future__ import annotations

import asyncio
import os
import re
import smtplib
import ssl
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import dkim
import httpx
import pytest
import trustme
from agentmail import AgentMail, AgentMailEnvironment
from agentmail.inboxes import CreateInboxRequest
from sqlalchemy import select

from postroom.delivery.dkim import public_txt
from postroom.delivery.routing import Hop
from postroom.delivery.transmit import transmit
from postroom.runtime import Runtime, build
from postroom.storage.tables import delivery_jobs, delivery_recipients, messages
from tests.conftest import make_settings
from tests.support import postfix
from tests.support.clock import TestClock
from tests.support.inprocess import serving
from tests.support.sender_dns import sender_dns
from tests.support.server import free_port
from tests.support.trust import key_for, publish_sender, signed, split_verdict

T = TypeVar("T")
DOMAIN = "postroom.test"
HOSTNAME = f"mx.{DOMAIN}"
SENDER_DOMAIN = "sender.test"
DEADLINE = 30.0

pytestmark = pytest.mark.skipif(
    not postfix.installed() and os.environ.get("CI") != "true",
    reason="Postfix is installed by `make test` (under CI=true this test always runs)",
)


class Peers:
    def __init__(self, runtime: Runtime, mta: postfix.PostfixPeer, sdk: AgentMail, clock: TestClock) -> None:
        self.runtime, self.postfix, self.sdk, self.clock = runtime, mta, sdk, clock
        self.inbox_id = sdk.inboxes.create(request=CreateInboxRequest(username="agent")).inbox_id

    def through_postfix(self, mail_from: str, to: str, raw: bytes) -> None:
        """Hand ``raw`` to Postfix as an outside client would; Postfix relays it on to Postroom."""
        with smtplib.SMTP("127.0.0.1", self.postfix.port, local_hostname="client.sender.test", timeout=30) as smtp:
            smtp.sendmail(mail_from, [to], raw)


def eventually(probe: Callable[[], T | None], what: str, peers: Peers, timeout: float = DEADLINE) -> T:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = probe()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"{what} did not happen; Postfix's log ends:\n{peers.postfix.log()[-4000:]}")


@pytest.fixture(scope="module")
def peers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Peers]:
    root = tmp_path_factory.mktemp("postfix-interop")
    ca = trustme.CA()
    ours = ca.issue_cert(HOSTNAME)
    ours.cert_chain_pems[0].write_to_path(str(root / "cert.pem"))
    ours.private_key_pem.write_to_path(str(root / "key.pem"))
    smtp_port = free_port()
    mta = postfix.PostfixPeer(relay_domain=DOMAIN, relay_port=smtp_port, ca=ca).start()
    clock = TestClock()
    settings = make_settings(
        f"sqlite:///{root / 'postroom.db'}",
        root,
        default_domain=DOMAIN,
        smtp_hostname=HOSTNAME,
        smtp_port=smtp_port,
        api_port=free_port(),
        smtp_tls_cert=root / "cert.pem",
        smtp_tls_key=root / "key.pem",
        mx_overrides=f"{postfix.DOMAIN}=127.0.0.1:{mta.port}",
        delivery_poll_seconds=0.1,
    )
    runtime = build(settings, clock=clock)
    key = runtime.bootstrap.api_key
    assert key is not None
    try:
        with serving(runtime) as base_url:
            sdk = AgentMail(api_key=key, environment=AgentMailEnvironment(http=base_url, websockets=base_url))
            yield Peers(runtime, mta, sdk, clock)
    finally:
        runtime.close()
        mta.stop()


def dns_with(domain: str, selector: str, txt: str) -> Callable[..., bytes | None]:
    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        return txt.encode() if name.decode().rstrip(".") == f"{selector}._domainkey.{domain}" else None

    return lookup


def stored_messages(peers: Peers) -> list[Any]:
    return list(peers.sdk.inboxes.messages.list(peers.inbox_id).messages)


def raw_download(peers: Peers, message_id: str) -> bytes:
    link = peers.sdk.inboxes.messages.get_raw(peers.inbox_id, message_id)
    return httpx.get(link.download_url, timeout=10).content


def test_postfix_relays_into_postroom_over_starttls_intact_under_our_trace_fields(peers: Peers) -> None:
    publish_sender(sender_dns(), SENDER_DOMAIN)  # SPF for 127.0.0.1 (Postfix) and the DKIM key
    original = signed(
        (
            f"From: Ann <ann@{SENDER_DOMAIN}>\r\nTo: {peers.inbox_id}\r\nSubject: Through Postfix\r\n"
            f"Message-ID: <relayed-1@{SENDER_DOMAIN}>\r\nDate: Mon, 06 Jan 2025 10:00:00 +0000\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\nHello from behind a real MTA.\r\n.dot line\r\n"
        ).encode(),
        SENDER_DOMAIN,
    )
    peers.through_postfix(f"ann@{SENDER_DOMAIN}", peers.inbox_id, original)

    [message] = eventually(
        lambda: [m for m in stored_messages(peers) if m.subject == "Through Postfix"], "relay", peers
    )
    raw = raw_download(peers, message.message_id)
    added, sent = split_verdict(raw)
    assert sent.endswith(original)  # Postfix put only its own Received on top; every byte of the sender's follows
    assert sent.startswith(b"Received: from client.sender.test")  # Postfix's hop
    assert added.startswith(f"Return-Path: <ann@{SENDER_DOMAIN}>\r\n".encode())
    ours = re.search(rb"\r\nReceived: (.*?)\r\n(?![ \t])", added, re.DOTALL)
    assert ours is not None, added
    received = b" ".join(ours.group(1).split())
    assert received.startswith(f"from {postfix.HOSTNAME} ([127.0.0.1]) by {HOSTNAME} with ESMTPS id ".encode())
    assert f"for <{peers.inbox_id}>;".encode() in received
    key = key_for(SENDER_DOMAIN)
    assert dkim.verify(raw, dnsfunc=dns_with(SENDER_DOMAIN, key.selector, public_txt(key)))

    detail = peers.sdk.inboxes.messages.get(peers.inbox_id, message.message_id)
    assert detail.text is not None
    assert detail.text.startswith("Hello from behind a real MTA.")
    assert detail.from_ == f"Ann <ann@{SENDER_DOMAIN}>"

    log = peers.postfix.wait_for_log("status=sent")
    us = re.escape(f"127.0.0.1[127.0.0.1]:{peers.runtime.settings.smtp_port}")
    heard = [line.split(": ", 2)[-1] for line in re.findall(rf"postfix/smtp\[\d+\]: < {us}: .*", log)]
    assert heard.count("250-ENHANCEDSTATUSCODES") == 2  # Postroom advertises it before and after STARTTLS ...
    for reply in ("250 2.1.0 Sender ok", "250 2.1.5 Recipient ok", "250 2.0.0 Message accepted for delivery"):
        assert reply in heard  # ... and uses it on every reply
    assert not [line for line in heard if "AUTH" in line]  # no AUTH offered, before or after TLS
    assert f"Trusted TLS connection established to 127.0.0.1[127.0.0.1]:{peers.runtime.settings.smtp_port}" in log


def sent_row(peers: Peers, message_id: str) -> str:
    with peers.runtime.engine.connect() as connection:
        row = connection.execute(select(messages.c.row_id).where(messages.c.message_id == message_id)).first()
    assert row is not None
    return str(row[0])


def recipient_state(peers: Peers, row_id: str, address: str) -> tuple[str, Any] | None:
    with peers.runtime.engine.connect() as connection:
        row = connection.execute(
            select(delivery_recipients.c.state, delivery_recipients.c.status).where(
                delivery_recipients.c.row_id == row_id, delivery_recipients.c.address == address
            )
        ).first()
    return (str(row[0]), row[1]) if row is not None else None


def job_of(peers: Peers, row_id: str) -> tuple[int, str | None] | None:
    with peers.runtime.engine.connect() as connection:
        row = connection.execute(
            select(delivery_jobs.c.attempts, delivery_jobs.c.last_error).where(delivery_jobs.c.row_id == row_id)
        ).first()
    return (int(row[0]), row[1]) if row is not None else None


def test_postroom_sends_to_postfix_with_a_fqdn_ehlo_dkim_signed_into_a_mailbox(peers: Peers) -> None:
    sent = peers.sdk.inboxes.messages.send(peers.inbox_id, to=[postfix.MAILBOX], subject="To Postfix", text="Hi.")

    mailbox = peers.postfix.wait_for_mailbox(b"Subject: To Postfix")
    delivered = mailbox[mailbox.rfind(b"\nFrom ") + 1 :] if b"\nFrom " in mailbox else mailbox
    message = delivered.split(b"\n", 1)[1].replace(b"\n", b"\r\n")  # mbox "From " line off, CRLF back
    assert f"Received: from {HOSTNAME} (".encode() in message
    assert b"with ESMTPS" in message  # Postroom used STARTTLS to Postfix
    assert sent.message_id.encode() in message
    signer = peers.runtime.signer
    txt = signer.public_txt(DOMAIN)
    assert txt is not None
    assert b"DKIM-Signature:" in message
    assert dkim.verify(message, dnsfunc=dns_with(DOMAIN, peers.runtime.settings.dkim_selector, txt))
    log = peers.postfix.log()
    assert re.search(rf"smtpd\[\d+\]: < \S+: EHLO {re.escape(HOSTNAME)}\n", log)  # the mail host, fully qualified
    row_id = sent_row(peers, sent.message_id)
    eventually(lambda: recipient_state(peers, row_id, postfix.MAILBOX) == ("delivered", "2.0.0"), "delivery", peers)


def test_a_450_from_postfix_is_retried_and_a_550_bounces(peers: Peers) -> None:
    sent = peers.sdk.inboxes.messages.send(
        peers.inbox_id, to=[postfix.TEMPORARY], cc=[postfix.REFUSED], subject="Busy and gone", text="Hi."
    )
    row_id = sent_row(peers, sent.message_id)
    eventually(lambda: recipient_state(peers, row_id, postfix.REFUSED) == ("bounced", "5.1.1"), "bounce", peers)
    first = eventually(lambda: (j := job_of(peers, row_id)) and j[0] >= 1 and j, "a first attempt", peers)
    assert (first[1] or "").startswith("4.2.1 <busy@postfix.test>: Recipient address rejected: Mailbox busy")
    assert "450 4.2.1 <busy@postfix.test>" in peers.postfix.log()
    assert recipient_state(peers, row_id, postfix.TEMPORARY) == ("delayed", "4.2.1")

    peers.clock.advance(hours=1)  # past the retry delay: the worker tries again
    second = eventually(lambda: (j := job_of(peers, row_id)) and j[0] >= 2 and j, "a retry", peers)
    assert "Mailbox busy" in (second[1] or "")
    labels = peers.sdk.inboxes.messages.get(peers.inbox_id, sent.message_id).labels
    assert "bounced" in labels


def test_a_dsn_from_postfix_to_our_return_path_bounces_the_recipient(peers: Peers) -> None:
    sent = peers.sdk.inboxes.messages.send(peers.inbox_id, to=[postfix.BOUNCED], subject="Accepted, then not")
    row_id = sent_row(peers, sent.message_id)
    # Postfix takes it (250), then its error transport bounces it: the DSN goes to the VERP return path, which
    # Postfix relays to Postroom over STARTTLS.
    eventually(lambda: recipient_state(peers, row_id, postfix.BOUNCED) == ("bounced", "5.2.1"), "the DSN", peers)
    log = peers.postfix.wait_for_log("status=bounced (Mailbox disabled)")  # its log lines may trail the mail
    assert re.search(rf"to=<{re.escape(postfix.BOUNCED)}>.*dsn=5\.2\.1, status=bounced", log)
    dsn_relayed = re.compile(r"to=<bounces=msg_[0-9a-z]+\.[0-9a-f]+@postroom\.test>.*status=sent \(250 2\.0\.0")
    eventually(lambda: dsn_relayed.search(peers.postfix.log()), "the DSN's relay to Postroom in Postfix's log", peers)


async def _transmit_with_helo(port: int, helo: str) -> list[Any]:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return await transmit(
        [Hop("127.0.0.1", port)],
        mail_from=f"someone@{DOMAIN}",
        recipients=[postfix.MAILBOX],
        raw=b"From: someone@postroom.test\r\nSubject: helo\r\n\r\nHi.\r\n",
        helo_name=helo,
        timeout=10,
        tls_context=context,
    )


def test_postfix_refusing_our_non_fqdn_helo_is_a_retry_not_a_bounce(peers: Peers) -> None:
    [result] = asyncio.run(_transmit_with_helo(peers.postfix.port, "localhost"))
    assert result.outcome == "temporary", result
    assert result.code == 504
    assert result.detail.startswith("our EHLO name was refused: ")
    assert "Helo command rejected: need fully-qualified hostname" in result.detail


def test_a_non_ascii_local_part_is_accepted_by_the_api_and_sent_with_smtputf8(peers: Peers) -> None:
    sent = peers.sdk.inboxes.messages.send(peers.inbox_id, to=[f"Zoë <{postfix.INTERNATIONAL}>"], subject="Grüße")

    mailbox = peers.postfix.wait_for_mailbox(b"To: ", user="zoë")
    assert f"To: Zoë <{postfix.INTERNATIONAL}>".encode() in mailbox  # UTF-8 header fields (RFC 6532)
    assert sent.message_id.encode() in mailbox
    log = peers.postfix.log()
    assert re.search(rf"smtpd\[\d+\]: < \S+: RCPT TO:<{postfix.INTERNATIONAL}>", log)
    assert re.search(r"smtpd\[\d+\]: < \S+: MAIL FROM:<bounces=\S+> SIZE=\d+ BODY=8BITMIME SMTPUTF8\n", log)
