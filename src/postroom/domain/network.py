"""Which IP addresses a server must not be talked into connecting to (server-side request forgery).

Shared by webhook deliveries and attachment URLs fetched for sends.
"""

from __future__ import annotations

import ipaddress


def blocked_address(address: str) -> bool:
    """Private, loopback, link-local, multicast, reserved or unspecified: not a place to POST to from a server."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )
