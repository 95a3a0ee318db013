"""Resolving the host of a user-given URL to IP addresses, through the configured DNS servers or the system's."""

from __future__ import annotations

import ipaddress
import socket

from postroom.dns.resolver import DnsResolver, TemporaryLookupError


class HostAddresses:
    """Every address a host resolves to; [] when it does not resolve (or DNS cannot say).

    With ``POSTROOM_DNS_SERVERS`` set the answer comes from those servers (A, then AAAA); otherwise from the system
    (``getaddrinfo``, so /etc/hosts counts).
    """

    def __init__(self, dns: DnsResolver | None = None) -> None:
        self._dns = dns if dns is not None and dns.servers else None

    def addresses(self, host: str) -> list[str]:
        try:
            return [str(ipaddress.ip_address(host))]
        except ValueError:
            pass
        if host.rstrip(".") == "localhost" or host.rstrip(".").endswith(".localhost"):
            return ["127.0.0.1", "::1"]  # RFC 6761 §6.3: loopback, whatever a DNS server says
        if self._dns is not None:
            try:
                return list(dict.fromkeys([*self._dns.lookup(host, "A"), *self._dns.lookup(host, "AAAA")]))
            except TemporaryLookupError:
                return []
        try:
            found = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            return []
        return list(dict.fromkeys(str(info[4][0]) for info in found))
