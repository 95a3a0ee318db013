"""Resolving webhook hosts to IP addresses (for the private-address check at create time and before each POST)."""

from __future__ import annotations

import ipaddress
import socket


class SocketResolver:
    def addresses(self, host: str) -> list[str]:
        try:
            return [str(ipaddress.ip_address(host))]
        except ValueError:
            pass
        try:
            found = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            return []
        return list(dict.fromkeys(str(info[4][0]) for info in found))
