"""Which URLs and IP addresses a server must not be talked into connecting to (server-side request forgery).

Shared by webhook deliveries and attachment URLs fetched for sends. IPv6 forms that carry an IPv4 address (mapped,
compatible, 6to4, NAT64, Teredo) are judged by the IPv4 address the packets would reach.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")
NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")  # RFC 8215: operator-local, never a public target
IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")

# Not globally reachable (IANA special-purpose registries), listed here because older Pythons miss some of them.
NOT_GLOBAL_V4 = tuple(
    ipaddress.IPv4Network(net)
    for net in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/3",
    )
)
NOT_GLOBAL_V6 = tuple(
    ipaddress.IPv6Network(net)
    for net in ("::/8", "100::/64", "2001::/23", "2001:db8::/32", "3fff::/20", "5f00::/16", "fc00::/7", "fe80::/9")
)

# A host made only of digits, hex and dots is an IPv4 address to inet_aton ("2130706433", "0x7f.1", "0177.0.0.1",
# "127.1"); only the canonical dotted quad is accepted, so the check and the connection cannot disagree about it.
_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+))*\.?$", re.IGNORECASE)


def _blocked_ipv4(ip: ipaddress.IPv4Address) -> bool:
    return (
        any(ip in network for network in NOT_GLOBAL_V4)
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address leads to (mapped, compatible, 6to4, NAT64, Teredo server and client)."""
    if ip.ipv4_mapped is not None:
        return [ip.ipv4_mapped]
    if ip.sixtofour is not None:
        return [ip.sixtofour]
    if ip.teredo is not None:
        server, client = ip.teredo
        return [server, client]
    if ip in NAT64_WELL_KNOWN or ip in IPV4_COMPATIBLE:
        return [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)]
    return []


def blocked_address(address: str) -> bool:
    """Private, loopback, link-local, multicast, reserved or unspecified: not a place to connect to from a server."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv4Address):
        return _blocked_ipv4(ip)
    if ip in NAT64_LOCAL_USE or ip in IPV4_COMPATIBLE:
        return True  # operator-local NAT64, and the deprecated IPv4-compatible form (unspecified and loopback too)
    carried = embedded_ipv4(ip)
    if carried:
        return any(_blocked_ipv4(inner) for inner in carried)
    return (
        any(ip in network for network in NOT_GLOBAL_V6)
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_site_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


@dataclass(frozen=True)
class UrlTarget:
    scheme: str
    host: str  # lower case; an IPv6 literal without brackets
    port: int

    @property
    def literal(self) -> str | None:
        """The host itself when it is an IP address (nothing to resolve)."""
        try:
            return str(ipaddress.ip_address(self.host))
        except ValueError:
            return None


def url_target(url: str) -> UrlTarget:
    """Where an http(s) URL points; ValueError (with a reason) for any form a server should not follow.

    Credentials, backslashes and control characters are refused: parsers disagree about where such hosts end.
    """
    if any(ord(char) < 0x21 or char == "\\" for char in url):
        raise ValueError("must not contain spaces, control characters or backslashes")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise ValueError("is not a valid URL") from error
    scheme = parts.scheme.lower()
    if scheme not in {"http", "https"}:
        raise ValueError("must use http or https")
    if not parts.hostname or parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise ValueError("must name a host (and carry no credentials)")
    host = parts.hostname.lower()
    if _NUMERIC_HOST.match(host) and not _is_dotted_quad(host):
        raise ValueError("must write an IPv4 address as four decimal numbers (a.b.c.d)")
    return UrlTarget(scheme, host, port or (443 if scheme == "https" else 80))


def _is_dotted_quad(host: str) -> bool:
    try:
        return str(ipaddress.IPv4Address(host)) == host
    except ValueError:
        return False
