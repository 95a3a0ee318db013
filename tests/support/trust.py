"""Sender-side helpers for inbound trust tests: publish a domain's SPF/DKIM/DMARC, sign and ARC-seal mail.

Signing keys are the tests' own (made here with dkimpy's counterpart in postroom.delivery.dkim); their public halves
are published on the loopback DNS server, exactly as a sender's DNS host would.
"""

from __future__ import annotations

import smtplib
import socket
import uuid
from functools import cache

import dkim

from postroom.delivery.dkim import DkimKey, generate_key, public_txt, sign
from tests.support.dns_server import DnsTestServer

SELECTOR = "s1"
# Header fields Postroom writes on top of a stored inbound message: the return path, the verdict fields, then the
# Received field of the hop into Postroom (one, and only for mail that came over SMTP).
VERDICT_FIELDS = (b"authentication-results:", b"x-spam-status:")
TRACE_FIELDS = (b"return-path:", *VERDICT_FIELDS)


@cache
def key_for(domain: str) -> DkimKey:
    return generate_key(domain, SELECTOR)


def publish_sender(
    dns: DnsTestServer, domain: str, *, spf: str | None = "v=spf1 ip4:127.0.0.1 -all", dmarc: str | None = None
) -> DkimKey:
    """Publish the domain's SPF (None: no record), its DKIM key and optionally a DMARC record."""
    key = key_for(domain)
    if spf is not None:
        dns.publish(domain, "TXT", spf)
    dns.publish(f"{SELECTOR}._domainkey.{domain}", "TXT", public_txt(key))
    if dmarc is not None:
        dns.publish(f"_dmarc.{domain}", "TXT", dmarc)
    return key


def message(sender: str, to: str, subject: str = "Hello", body: str = "Hello agent.\r\n", extra: str = "") -> bytes:
    message_id = f"<{uuid.uuid4().hex}@{sender.rpartition('@')[2]}>"
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: {message_id}\r\n"
        f"Date: Mon, 06 Jan 2025 10:00:00 +0000\r\n{extra}Content-Type: text/plain; charset=utf-8\r\n\r\n{body}"
    ).encode()


def signed(raw: bytes, domain: str) -> bytes:
    return sign(raw, key_for(domain))


def arc_sealed(raw: bytes, sealer: str, results: str) -> bytes:
    """``raw`` as a forwarder ``sealer`` passes it on: its Authentication-Results, then one ARC set over them."""
    with_results = f"Authentication-Results: {sealer}; {results}\r\n".encode() + raw
    key = key_for(sealer)
    headers = dkim.arc_sign(
        with_results,
        SELECTOR.encode(),
        sealer.encode(),
        key.private_pem,
        sealer.encode(),
        include_headers=[b"from", b"to", b"subject", b"message-id", b"date"],
    )
    return b"".join(headers) + with_results


def split_verdict(stored: bytes) -> tuple[bytes, bytes]:
    """(the header fields Postroom added on top, the bytes the sender sent) of a stored raw message."""
    lines = stored.splitlines(keepends=True)
    index = 0

    def skip_field() -> int:
        end = index + 1
        while end < len(lines) and lines[end][:1] in (b" ", b"\t"):
            end += 1
        return end

    while index < len(lines) and lines[index].lower().startswith(TRACE_FIELDS):
        index = skip_field()
    if index < len(lines) and lines[index].lower().startswith(b"received:"):
        index = skip_field()  # ours: a message Postroom composed has none, mail over SMTP has ours on top
    return b"".join(lines[:index]), b"".join(lines[index:])


def send(port: int, mail_from: str, to: list[str], raw: bytes, helo: str = "client.example") -> None:
    """Deliver over real SMTP from 127.0.0.1; SMTP errors propagate (smtplib.SMTPDataError for a 5xx at DATA)."""
    with smtplib.SMTP("127.0.0.1", port, local_hostname=helo, timeout=60) as client:
        client.sendmail(mail_from, to, raw)


class ProxiedSMTP(smtplib.SMTP):
    """An SMTP client that opens its connection with a PROXY protocol v1 header, as a front load balancer does."""

    def __init__(self, source_ip: str, *args: object, **kwargs: object) -> None:
        self._source_ip = source_ip
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        sock = super()._get_socket(host, port, timeout)  # type: ignore[misc]
        sock.sendall(f"PROXY TCP4 {self._source_ip} 127.0.0.1 40000 {port}\r\n".encode())
        return sock  # type: ignore[no-any-return]
