"""DMARC (RFC 7489) for inbound mail: policy discovery in DNS and the result from SPF, DKIM and alignment.

The organizational domain comes from the Public Suffix List shipped with ``publicsuffixlist`` (offline; no list
is fetched at run time). The rules themselves are in ``postroom.domain.dmarc``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from publicsuffixlist import PublicSuffixList

from postroom.domain.authentication import DkimResult, DmarcResult, SpfResult
from postroom.domain.dmarc import (
    DmarcRecord,
    InvalidRecord,
    Mode,
    aligned,
    applicable_policy,
    is_dmarc_record,
    parse_record,
    sampled_policy,
)
from postroom.errors import TemporaryLookupError
from postroom.services.ports import DnsLookup

_SUFFIXES = PublicSuffixList()


@lru_cache(maxsize=4096)
def organizational_domain(domain: str) -> str:
    """The registrable domain (``mail.example.co.uk`` → ``example.co.uk``); a public suffix is its own."""
    name = domain.lower().rstrip(".")
    return _SUFFIXES.privatesuffix(name) or name


class _Discovery:
    """What policy discovery found: the record, and whether it was the From domain's own."""

    def __init__(self, record: DmarcRecord | None, at_from_domain: bool) -> None:
        self.record = record
        self.at_from_domain = at_from_domain


class DmarcEvaluator:
    def __init__(self, dns: DnsLookup, draw: Callable[[], float]) -> None:
        self._dns = dns
        self._draw = draw

    def _record_at(self, domain: str) -> DmarcRecord | None:
        """The one DMARC record at ``_dmarc.<domain>``; none or several mean no policy (RFC 7489 §6.6.3)."""
        candidates = [text for text in self._dns.lookup(f"_dmarc.{domain}", "TXT") if is_dmarc_record(text)]
        if len(candidates) != 1:
            return None
        return parse_record(candidates[0])

    def _discover(self, from_domain: str) -> _Discovery:
        record = self._record_at(from_domain)
        if record is not None:
            return _Discovery(record, True)
        organizational = organizational_domain(from_domain)
        if organizational != from_domain:
            return _Discovery(self._record_at(organizational), False)
        return _Discovery(None, True)

    def evaluate(self, from_domain: str, spf: list[SpfResult], dkim: list[DkimResult]) -> DmarcResult:
        try:
            found = self._discover(from_domain)
        except TemporaryLookupError as error:
            return DmarcResult("temperror", from_domain, reason=f"DNS did not answer: {error}")
        except InvalidRecord as error:
            return DmarcResult("permerror", from_domain, reason=str(error))
        record = found.record
        if record is None:
            return DmarcResult("none", from_domain, reason="no DMARC record")
        policy = applicable_policy(record, found.at_from_domain)
        if aligned_pass(from_domain, spf, dkim, record.spf_mode, record.dkim_mode):
            return DmarcResult("pass", from_domain, policy=policy)
        disposition = sampled_policy(policy, record.percent, self._draw())
        return DmarcResult("fail", from_domain, policy=policy, disposition=disposition)


def spf_identity(spf: list[SpfResult]) -> SpfResult | None:
    """The SPF result DMARC uses: MAIL FROM's, or HELO's for a null sender (RFC 7489 §3.1.2)."""
    by_identity = {result.identity: result for result in spf}
    return by_identity.get("mailfrom") or by_identity.get("helo")


def aligned_pass(
    from_domain: str, spf: list[SpfResult], dkim: list[DkimResult], spf_mode: Mode, dkim_mode: Mode
) -> bool:
    """Whether SPF or any DKIM signature passed for a domain aligned with the From domain."""
    spf_result = spf_identity(spf)
    if (
        spf_result is not None
        and spf_result.result == "pass"
        and aligned(spf_result.domain, from_domain, spf_mode, organizational_domain)
    ):
        return True
    return any(r.result == "pass" and aligned(r.domain, from_domain, dkim_mode, organizational_domain) for r in dkim)
