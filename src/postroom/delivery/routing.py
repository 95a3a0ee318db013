"""Where a recipient domain's mail goes next: a configured override, the relay, or its MX hosts (RFC 5321 §5.1,
RFC 7505 null MX)."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import unquote, urlsplit

from postroom.errors import TemporaryLookupError

NULL_MX_HOST = "."
RELAY_SCHEMES = {"smtp": 587, "smtps": 465, "smtp+insecure": 25}


@dataclass(frozen=True)
class Hop:
    host: str
    port: int
    implicit_tls: bool = False  # SMTPS (465-style)
    require_tls: bool = False  # STARTTLS mandatory (relay); otherwise opportunistic
    username: str | None = None
    password: str | None = None

    def __repr__(self) -> str:
        # Keeps the relay password out of logs and tracebacks.
        secret = "***" if self.password is not None else None
        return (
            f"Hop(host={self.host!r}, port={self.port}, implicit_tls={self.implicit_tls}, "
            f"require_tls={self.require_tls}, username={self.username!r}, password={secret!r})"
        )


class NoRoute(Exception):
    """The domain cannot be reached right now (``permanent=False``) or ever (``permanent=True``)."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class Resolver(Protocol):
    async def mx(self, domain: str) -> list[tuple[int, str]]: ...  # (preference, host); [] when no MX

    async def addresses(self, host: str) -> list[str]: ...  # A and AAAA


async def hops_for(
    domain: str,
    *,
    overrides: Mapping[str, Hop],
    relay: Hop | None,
    resolver: Resolver,
    port: int = 25,
) -> list[Hop]:
    """The hops to try, in order; raises NoRoute when there are none."""
    domain = domain.strip().rstrip(".").lower()
    if domain in overrides:
        return [overrides[domain]]
    if relay is not None:
        return [relay]
    try:
        exchangers = await resolver.mx(domain)
        if not exchangers:
            if await resolver.addresses(domain):
                return [Hop(domain, port)]  # implicit MX, RFC 5321 §5.1
            raise NoRoute(f"{domain} has no MX and no address record", permanent=True)
    except TemporaryLookupError as error:
        raise NoRoute(str(error), permanent=False) from error
    hosts = [(preference, _host_text(host)) for preference, host in exchangers]
    usable = [(preference, host) for preference, host in hosts if host != NULL_MX_HOST]
    if not usable:
        raise NoRoute(f"{domain} does not accept mail (null MX, RFC 7505)", permanent=True)
    return [Hop(host, port) for host in _by_preference(usable)]


def _by_preference(exchangers: list[tuple[int, str]]) -> list[str]:
    # Equal preferences are shuffled so that load spreads across them (RFC 5321 §5.1).
    keyed = sorted(((preference, random.random(), host) for preference, host in exchangers))
    ordered: list[str] = []
    for _, _, host in keyed:
        if host not in ordered:
            ordered.append(host)
    return ordered


def _host_text(name: str) -> str:
    return name.rstrip(".").lower() or NULL_MX_HOST


def parse_mx_overrides(value: str | None) -> dict[str, Hop]:
    """Parse ``"example.org=127.0.0.1:2600,b.test=[::1]:25"`` (port defaults to 25)."""
    overrides: dict[str, Hop] = {}
    for item in (value or "").split(","):
        entry = item.strip()
        if not entry:
            continue
        domain, separator, target = entry.partition("=")
        domain = domain.strip().rstrip(".").lower()
        if not separator or not domain or not target.strip():
            raise ValueError(f"MX override {entry!r} must look like domain=host:port")
        host, port = _host_port(target.strip(), default_port=25, context=f"MX override {entry!r}")
        overrides[domain] = Hop(host, port)
    return overrides


def _host_port(target: str, *, default_port: int, context: str) -> tuple[str, int]:
    if target.startswith("["):
        host, bracket, rest = target[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ValueError(f"{context}: an IPv6 address is written [addr]:port")
        port_text = rest[1:]
    elif target.count(":") > 1:
        raise ValueError(f"{context}: an IPv6 address is written [addr]:port")
    else:
        host, _, port_text = target.partition(":")
    if not host:
        raise ValueError(f"{context}: the host is missing")
    if not port_text:
        return host, default_port
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"{context}: the port must be a number from 1 to 65535")
    return host, int(port_text)


def parse_relay_url(value: str | None) -> Hop | None:
    """Parse ``smtp://user:pass@host:587`` (STARTTLS required), ``smtps://…:465`` (implicit TLS) or
    ``smtp+insecure://host:25`` (no TLS; tests and development)."""
    if value is None or not value.strip():
        return None
    url = value.strip()
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in RELAY_SCHEMES:
        raise ValueError(f"relay URL must start with smtp://, smtps:// or smtp+insecure://, got {url.split(':')[0]!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError("relay URL takes no path, query or fragment: scheme://user:pass@host:port")
    try:
        port = parts.port or RELAY_SCHEMES[scheme]
    except ValueError as error:
        raise ValueError("relay URL port must be a number from 1 to 65535") from error
    if not parts.hostname:
        raise ValueError("relay URL has no host")
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    if password is not None and username is None:
        raise ValueError("relay URL has a password but no user name")
    return Hop(
        host=parts.hostname,
        port=port,
        implicit_tls=scheme == "smtps",
        require_tls=scheme == "smtp",
        username=username,
        password=password,
    )
