"""The ``from`` clause of Received trace headers (RFC 5321 §4.4): which client a relay says it heard from.

Written by hand: only the client's HELO name and bracketed address are needed, from the topmost headers.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from postroom.mime.header_section import parse_headers

# "from <helo> (<rdns> [<ip>])" - the address literal may carry an "IPv6:" prefix (RFC 5321 §4.1.3).
_FROM = re.compile(r"^\s*from\s+(\S+)", re.IGNORECASE)
_ADDRESS = re.compile(r"\[(?:ipv6:)?([0-9a-f:.]+)\]", re.IGNORECASE)
_BY = re.compile(r"\sby\s", re.IGNORECASE)


@dataclass(frozen=True)
class ReceivedFrom:
    helo: str | None
    ip: str | None


def _clause(value: str) -> ReceivedFrom:
    text = " ".join(value.split())
    text = _BY.split(text, maxsplit=1)[0]  # only the from-clause: "by" names the relay itself
    helo_match = _FROM.match(text)
    helo = helo_match.group(1).strip("[]") if helo_match else None
    ip = None
    for candidate in _ADDRESS.findall(text):
        try:
            ip = str(ipaddress.ip_address(candidate))
            break
        except ValueError:
            continue
    return ReceivedFrom(helo=helo, ip=ip)


def received_from(raw: bytes, limit: int = 10) -> list[ReceivedFrom]:
    """The from-clauses of the topmost ``limit`` Received headers, newest (topmost) first."""
    headers = parse_headers(raw)
    values = [str(value) for value in headers.get_all("Received", [])][:limit]
    return [_clause(value) for value in values]
