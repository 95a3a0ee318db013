"""Checking a URL's addresses once and aiming the HTTP request at exactly those (closing the DNS-rebinding window).

The request goes to the checked IP address; the ``Host`` header and, for https, the TLS server name (SNI and the
certificate check) stay the URL's host name, so the far end sees an ordinary request for its name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from postroom.domain.network import UrlTarget, blocked_address, url_target
from postroom.services.ports import HostResolver


class UnsafeUrl(Exception):
    """The URL is malformed, does not resolve, or reaches a non-public address; ``str()`` says which."""


@dataclass(frozen=True)
class PinnedRequest:
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    extensions: dict[str, str] = field(default_factory=dict)


def checked_target(url: str) -> UrlTarget:
    try:
        return url_target(url)
    except ValueError as error:
        raise UnsafeUrl(f"the URL {error}") from error


def checked_addresses(target: UrlTarget, resolver: HostResolver, *, allow_private: bool) -> list[str]:
    """The addresses to connect to: all of them public (unless private ones are allowed), resolved exactly once."""
    addresses = [target.literal] if target.literal else resolver.addresses(target.host)
    if not addresses:
        raise UnsafeUrl(f"{target.host} does not resolve")
    if not allow_private and any(blocked_address(address) for address in addresses):
        raise UnsafeUrl(f"{target.host} resolves to a private, loopback or link-local address")
    return addresses


def pin(url: str, target: UrlTarget, address: str) -> PinnedRequest:
    """``url`` aimed at ``address``, keeping the name for ``Host`` and TLS."""
    parts = urlsplit(url)
    ip_host = f"[{address}]" if ":" in address else address
    netloc = ip_host if parts.port is None else f"{ip_host}:{parts.port}"
    pinned_url = urlunsplit((target.scheme, netloc, parts.path or "/", parts.query, ""))
    host_header = parts.netloc.rpartition("@")[2]
    extensions = {"sni_hostname": target.host} if target.scheme == "https" and target.literal is None else {}
    return PinnedRequest(pinned_url, {"host": host_header}, extensions)


def pinned_requests(url: str, resolver: HostResolver, *, allow_private: bool) -> list[PinnedRequest]:
    """One request per checked address, in the resolver's order (a caller tries the next when one cannot connect)."""
    target = checked_target(url)
    return [pin(url, target, address) for address in checked_addresses(target, resolver, allow_private=allow_private)]
