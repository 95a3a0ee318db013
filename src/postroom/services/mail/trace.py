"""Header fields Postroom adds on top of a received message: the trace fields of the hop into Postroom (RFC 5321
§4.4: Return-Path and Received) and the verdict fields (RFC 8601 Authentication-Results, the spam status).

The sender's bytes stay byte-identical after the added fields: nothing is re-encoded or re-folded below them.
Every value written here that a client chose (HELO name, envelope addresses) is reduced to characters that cannot
end the field, start another one or change the structure of the Received clauses.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime

FOLD_AT = 78
RETURN_PATH = "Return-Path"
RECEIVED = "Received"
MAX_NAME = 255
MAX_ADDRESS = 320
_HELO_UNSAFE = re.compile(r"[^A-Za-z0-9.\-_]")
# A HELO that is an address literal keeps its brackets; elsewhere a bracket would let a client plant an address
# where readers of the trace look for the client's (the first [ip] of the from-clause).
_ADDRESS_LITERAL = re.compile(r"\[(?:IPv6:)?[0-9A-Fa-f.:]{2,45}\]")
# Whitespace, controls and the characters that delimit addresses, comments and clauses in a Received field.
_ADDRESS_UNSAFE = re.compile(r"[\x00-\x20\x7f<>()\[\];\\\"]")


@dataclass(frozen=True)
class SmtpHop:
    """One SMTP transaction into Postroom, as its Received field records it."""

    helo: str | None  # what the client said in HELO/EHLO
    ip: str  # the client's address (the PROXY header's source when one was believed)
    by: str  # this server's host name
    esmtp: bool  # EHLO rather than HELO
    tls: bool  # after STARTTLS
    recipients: tuple[str, ...]  # the envelope recipients of the transaction
    transaction_id: str


def _helo(value: str | None) -> str:
    name = (value or "").strip()
    if _ADDRESS_LITERAL.fullmatch(name):
        return name
    return _HELO_UNSAFE.sub("?", name)[:MAX_NAME] or "unknown"


def _address(value: str) -> str:
    return _ADDRESS_UNSAFE.sub("?", value.strip().removeprefix("<").removesuffix(">"))[:MAX_ADDRESS]


def return_path(mail_from: str | None) -> tuple[str, str]:
    """``Return-Path: <reverse-path>`` (``<>`` for the null sender of bounces, RFC 5321 §4.4)."""
    return RETURN_PATH, f"<{_address(mail_from or '')}>"


def _ip_literal(ip: str) -> str:
    return f"[IPv6:{ip}]" if ":" in ip else f"[{ip}]"


def received(hop: SmtpHop, at: datetime) -> tuple[str, str]:
    """``Received: from <helo> ([ip]) by <us> with ESMTP[S] id <id> [for <rcpt>]; <date>`` (RFC 5321 §4.4).

    ``for`` names the recipient only when the transaction had exactly one, so no copy reveals the others.
    """
    protocol = ("ESMTP" + ("S" if hop.tls else "")) if hop.esmtp else "SMTP"
    clauses = [
        f"from {_helo(hop.helo)} ({_ip_literal(_address(hop.ip))})",
        f"by {_helo(hop.by)}",
        f"with {protocol}",
        f"id {_helo(hop.transaction_id)}",
    ]
    if len(hop.recipients) == 1:
        clauses.append(f"for <{_address(hop.recipients[0])}>")
    return RECEIVED, f"{' '.join(clauses)}; {format_datetime(at)}"


def trace_fields(
    mail_from: str | None, hop: SmtpHop | None, at: datetime, verdict: Sequence[tuple[str, str]]
) -> list[tuple[str, str]]:
    """The fields to put on top of a delivered message, topmost first: Return-Path (added at final delivery),
    the verdict fields (written after this hop's Received, so above it), then this hop's Received."""
    fields = [return_path(mail_from), *verdict]
    if hop is not None:
        fields.append(received(hop, at))
    return fields


def _fold(name: str, value: str, newline: bytes) -> bytes:
    """``Name: value`` folded before ``; `` clauses (RFC 5322 §2.2.3) so each line stays short where it can."""
    clauses = value.split("; ")
    lines = [f"{name}: {clauses[0]}"]
    for clause in clauses[1:]:
        if len(lines[-1]) + 2 + len(clause) > FOLD_AT:
            lines[-1] += ";"
            lines.append(f"\t{clause}")
        else:
            lines[-1] += f"; {clause}"
    return newline.join(line.encode("utf-8") for line in lines) + newline


def header_block(raw: bytes, fields: Sequence[tuple[str, str]]) -> bytes:
    """``fields`` as header lines to put on top of ``raw``, in the order given, with the message's own line ending."""
    if not fields:
        return b""
    end = raw.find(b"\n")
    newline = b"\n" if end > 0 and raw[end - 1 : end] != b"\r" else b"\r\n"
    return b"".join(_fold(name, " ".join(value.split()), newline) for name, value in fields)


def prepend_headers(raw: bytes, fields: Sequence[tuple[str, str]]) -> bytes:
    """``raw`` with ``fields`` on top, in the order given, using the message's own line ending."""
    return header_block(raw, fields) + raw if fields else raw
