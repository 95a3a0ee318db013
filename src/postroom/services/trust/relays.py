"""The connecting client behind trusted front relays (POSTROOM_SMTP_TRUSTED_RELAYS).

Mail handed over by a trusted relay is judged by the client that relay heard from, as its topmost Received header
says; a chain of trusted relays is followed header by header. Mail from any other peer is judged by the peer.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from postroom.mime.received import received_from
from postroom.services.trust.authentication import Connection

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(value: str | None) -> tuple[Network, ...]:
    """``"10.0.0.5, 192.0.2.0/24, ::1"`` → networks; a bad entry is a ValueError naming it."""
    networks = []
    for item in (value or "").split(","):
        entry = item.strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError as error:
            raise ValueError(f"trusted relay {entry!r} must be an IP address or network (a.b.c.d/nn)") from error
    return tuple(networks)


def is_trusted(ip: str, networks: Iterable[Network]) -> bool:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address in network for network in networks)


def client_behind_relays(connection: Connection, raw: bytes, networks: tuple[Network, ...]) -> Connection:
    """The client that reached the first relay we do not trust (the peer itself when it is not trusted)."""
    if not networks or not is_trusted(connection.ip, networks):
        return connection
    client = connection
    for clause in received_from(raw):
        if clause.ip is None:
            break  # a header we cannot read: stop at the relay that wrote it
        client = Connection(ip=clause.ip, helo=clause.helo)
        if not is_trusted(clause.ip, networks):
            break
    return client
