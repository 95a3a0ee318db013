"""SPF (RFC 7208) for the MAIL FROM and HELO identities of inbound mail, evaluated by pyspf.

pyspf asks DNS through its module-level ``DNSLookup`` function (its pluggable lookup: it picks pydns or dnspython
there). We install one that answers from the ``DnsLookup`` port of the check in progress, so every query goes through
Postroom's resolver; outside a check it refuses rather than fall back to the system's resolver.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import spf  # type: ignore[import-untyped]

from postroom.domain.authentication import SpfResult
from postroom.errors import TemporaryLookupError
from postroom.services.ports import DnsLookup

_current: ContextVar[DnsLookup | None] = ContextVar("postroom_spf_dns", default=None)
# RFC 7208 §4.6.4 asks for a time limit on the whole evaluation; 20 s is its suggestion.
QUERY_TIME_SECONDS = 20


def _records(name: str, qtype: str, values: list[str]) -> list[tuple[tuple[str, str], object]]:
    """pyspf's shape: ((name, type), value) with TXT as a list of byte strings and MX as (preference, host)."""
    found: list[tuple[tuple[str, str], object]] = []
    for value in values:
        if qtype in ("TXT", "SPF"):
            found.append(((name, qtype), [value.encode("utf-8", "surrogateescape")]))
        elif qtype == "MX":
            preference, _, host = value.partition(" ")
            found.append(((name, qtype), (int(preference), host.rstrip("."))))
        elif qtype == "PTR":
            found.append(((name, qtype), value.rstrip(".")))
        else:
            found.append(((name, qtype), value))
    return found


def _lookup_through_port(
    name: str, qtype: str, strict: object = True, timeout: object = None
) -> list[tuple[tuple[str, str], object]]:
    dns = _current.get()
    if dns is None:
        raise spf.TempError("DNS: no resolver configured for this SPF check")
    try:
        return _records(name, qtype, dns.lookup(name, qtype))
    except TemporaryLookupError as error:
        raise spf.TempError(f"DNS {error}") from error


spf.DNSLookup = _lookup_through_port


@contextmanager
def _resolving_with(dns: DnsLookup) -> Iterator[None]:
    token = _current.set(dns)
    try:
        yield
    finally:
        _current.reset(token)


def _domain_of(address: str) -> str:
    return address.rpartition("@")[2].lower().rstrip(".")


def is_host_name(helo: str | None) -> bool:
    """A HELO worth an SPF check: a dotted name, not an address literal."""
    if not helo or "." not in helo or helo.startswith("["):
        return False
    try:
        ipaddress.ip_address(helo)
    except ValueError:
        return True
    return False


class SpfChecker:
    def __init__(self, dns: DnsLookup) -> None:
        self._dns = dns

    def _evaluate(self, ip: str, sender: str, helo: str) -> tuple[str, str]:
        with _resolving_with(self._dns):
            try:
                result, _code, explanation = spf.query(i=ip, s=sender, h=helo, querytime=QUERY_TIME_SECONDS).check()
            except Exception as error:  # a malformed identity or record pyspf trips over: never a lost message
                return "permerror", str(error)
        return str(result), str(explanation)

    def check(self, ip: str, mail_from: str | None, helo: str | None) -> list[SpfResult]:
        """The MAIL FROM result (postmaster@HELO for a null sender) and, for a host name, the HELO result."""
        results = []
        helo_name = (helo or "").strip().lower()
        if is_host_name(helo_name):
            result, reason = self._evaluate(ip, f"postmaster@{helo_name}", helo_name)
            results.append(SpfResult("helo", helo_name, helo_name, result, reason))
        sender = (mail_from or "").strip().removeprefix("<").removesuffix(">")
        if sender and "@" in sender:
            result, reason = self._evaluate(ip, sender, helo_name or "unknown")
            results.append(SpfResult("mailfrom", sender, _domain_of(sender), result, reason))
        return results
