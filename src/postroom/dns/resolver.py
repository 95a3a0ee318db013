"""The one DNS resolver adapter (dnspython), synchronous for services and asynchronous for the delivery worker.

Nameservers come from the system configuration, or from ``POSTROOM_DNS_SERVERS`` ("ip" or "ip:port", comma
separated). A name that does not exist, or has no record of the type asked, is an empty answer; anything else that
keeps DNS from answering (timeout, SERVFAIL, refused) is a ``TemporaryLookupError``.
"""

from __future__ import annotations

import ipaddress

import dns.asyncresolver
import dns.exception
import dns.nameserver
import dns.rdatatype
import dns.resolver
import dns.rrset

from postroom.dns.cache import AnswerCache
from postroom.errors import TemporaryLookupError

__all__ = ["DnsResolver", "TemporaryLookupError", "parse_dns_servers"]

DEFAULT_LIFETIME_SECONDS = 5.0


def parse_dns_servers(value: str | None) -> list[tuple[str, int]]:
    """``"127.0.0.1:5353, ::1, [::1]:53"`` → [(address, port), ...]; ``None`` or blank → [] (the system's)."""
    servers: list[tuple[str, int]] = []
    for item in (value or "").split(","):
        entry = item.strip()
        if not entry:
            continue
        if entry.startswith("["):
            host, bracket, rest = entry[1:].partition("]")
            if not bracket or (rest and not rest.startswith(":")):
                raise ValueError(f"DNS server {entry!r}: write an IPv6 address with a port as [addr]:port")
            port_text = rest[1:]
        elif entry.count(":") == 1:
            host, _, port_text = entry.partition(":")
        else:
            host, port_text = entry, ""
        try:
            address = str(ipaddress.ip_address(host))
        except ValueError as error:
            raise ValueError(f"DNS server {entry!r} must be an IP address, optionally with :port") from error
        if port_text and (not port_text.isdigit() or not 0 < int(port_text) < 65536):
            raise ValueError(f"DNS server {entry!r}: the port must be a number from 1 to 65535")
        servers.append((address, int(port_text) if port_text else 53))
    return servers


def _configure(resolver: dns.resolver.BaseResolver, servers: list[tuple[str, int]], lifetime: float) -> None:
    resolver.lifetime = lifetime
    resolver.timeout = min(lifetime, 2.0)
    if servers:
        resolver.nameservers = [dns.nameserver.Do53Nameserver(address, port) for address, port in servers]


def _texts(rrset: dns.rrset.RRset, rdtype: str) -> list[str]:
    if rdtype == "TXT":
        # A TXT record is a list of strings that together make one value (RFC 7208 §3.3).
        return [b"".join(record.strings).decode("utf-8", "replace") for record in rrset]
    return [record.to_text() for record in rrset]


class DnsResolver:
    def __init__(
        self,
        servers: list[tuple[str, int]] | None = None,
        *,
        lifetime: float = DEFAULT_LIFETIME_SECONDS,
        cache: AnswerCache | None = None,
    ):
        """``cache`` keeps the answers of :meth:`lookup` for their TTL; without one every lookup asks DNS."""
        self.servers = list(servers or [])
        self._cache = cache
        self._sync = dns.resolver.Resolver(configure=not self.servers)
        _configure(self._sync, self.servers, lifetime)
        self._async = dns.asyncresolver.Resolver(configure=not self.servers)
        _configure(self._async, self.servers, lifetime)

    def lookup(self, name: str, rdtype: str) -> list[str]:
        """The records of ``rdtype`` at ``name`` as text (TXT strings joined); [] when there are none."""
        if self._cache is not None and (cached := self._cache.get(name, rdtype)) is not None:
            return cached
        try:
            answer = self._sync.resolve(name, rdtype, search=False)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return []
        except dns.exception.DNSException as error:
            raise TemporaryLookupError(f"{rdtype} lookup for {name} failed: {error}") from error
        if answer.rrset is None:
            return []
        records = _texts(answer.rrset, rdtype)
        if self._cache is not None:
            # The answer's own TTL: the smallest along a CNAME chain, as dnspython computes it.
            self._cache.put(name, rdtype, records, answer.chaining_result.minimum_ttl)
        return records

    async def lookup_async(self, name: str, rdtype: str) -> list[str]:
        try:
            answer = await self._async.resolve(name, rdtype, search=False)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return []
        except dns.exception.DNSException as error:
            raise TemporaryLookupError(f"{rdtype} lookup for {name} failed: {error}") from error
        return _texts(answer.rrset, rdtype) if answer.rrset is not None else []

    async def mx(self, domain: str) -> list[tuple[int, str]]:
        """(preference, exchange host without the trailing dot); [] when the domain has no MX records."""
        found = []
        for text in await self.lookup_async(domain, "MX"):
            preference, _, host = text.partition(" ")
            found.append((int(preference), host.rstrip(".").lower() or "."))
        return found

    async def addresses(self, host: str) -> list[str]:
        """Every A and AAAA address of ``host``."""
        return [*await self.lookup_async(host, "A"), *await self.lookup_async(host, "AAAA")]
