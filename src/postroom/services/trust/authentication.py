"""Who sent an inbound message: SPF, DKIM, DMARC and ARC combined into one verdict and its RFC 8601 header.

Every DNS query goes through the ``DnsLookup`` port. ARC (RFC 8617) can stand in for a DMARC pass only when the
chain validates and a sealer the operator trusts (POSTROOM_ARC_TRUSTED_SEALERS) recorded a DMARC pass for the
same From domain in its ARC-Authentication-Results.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import getaddresses

import authres  # type: ignore[import-untyped]
import authres.arc  # type: ignore[import-untyped]
import authres.dmarc  # type: ignore[import-untyped]

from postroom.domain.authentication import ArcResult, DkimResult, DmarcResult, SpfResult, Verdict
from postroom.mime.header_section import parse_headers
from postroom.services.ports import DnsLookup
from postroom.services.trust.dmarc import DmarcEvaluator, aligned_pass
from postroom.services.trust.signatures import SignatureVerifier
from postroom.services.trust.spf import SpfChecker

AUTHENTICATION_RESULTS = "Authentication-Results"
_AR_FEATURES = authres.FeatureContext(authres.dmarc, authres.arc)
_SAFE_IDENTITY = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.@\[\]:-]{1,320}")


@dataclass(frozen=True)
class Connection:
    """The SMTP client whose mail is judged: its address (after PROXY / trusted relays) and HELO name."""

    ip: str
    helo: str | None


def from_domains(raw: bytes) -> list[str]:
    """The domains of the From header's addresses (RFC 5322.From, the identifier DMARC protects)."""
    headers = parse_headers(raw)
    values = [str(value) for value in headers.get_all("From", [])]
    domains = []
    for _name, address in getaddresses(values):
        domain = address.rpartition("@")[2].strip().lower().rstrip(".")
        if "@" in address and domain:
            domains.append(domain)
    return list(dict.fromkeys(domains))


class InboundAuthenticator:
    def __init__(
        self,
        dns: DnsLookup,
        authserv_id: str,
        trusted_sealers: frozenset[str] = frozenset(),
        draw: Callable[[], float] = random.random,
    ) -> None:
        self._spf = SpfChecker(dns)
        self._signatures = SignatureVerifier(dns)
        self._dmarc = DmarcEvaluator(dns, draw)
        self.authserv_id = authserv_id
        self._trusted_sealers = frozenset(name.lower() for name in trusted_sealers)

    def authenticate(self, raw: bytes, mail_from: str | None, connection: Connection) -> Verdict:
        spf = self._spf.check(connection.ip, mail_from, connection.helo)
        dkim = self._signatures.dkim(raw)
        arc, instances = self._signatures.arc(raw)
        domains = from_domains(raw)
        if len(domains) != 1:
            why = "no From address" if not domains else "From names several domains"
            dmarc = DmarcResult("permerror", ",".join(domains), reason=why)
            return Verdict(spf, dkim, dmarc, arc, aligned_pass=False, remote_ip=connection.ip)
        from_domain = domains[0]
        dmarc = self._dmarc.evaluate(from_domain, spf, dkim)
        if arc.result == "pass":
            arc = self._vouched(arc, instances, from_domain)
        aligned = aligned_pass(from_domain, spf, dkim, "r", "r")
        return Verdict(spf, dkim, dmarc, arc, aligned_pass=aligned, remote_ip=connection.ip)

    @staticmethod
    def local(sender_inbox: str) -> Verdict:
        """Mail from an inbox of this server: the API key that sent it is the authentication."""
        return Verdict(local_sender=sender_inbox)

    def _vouched(self, arc: ArcResult, instances: list[dict[str, object]], from_domain: str) -> ArcResult:
        for instance in instances:
            sealer = instance.get("as-domain")
            name = sealer.decode("ascii", "replace").lower() if isinstance(sealer, bytes) else ""
            if name not in self._trusted_sealers:
                continue
            if _reports_dmarc_pass(instance.get("aar-value"), from_domain):
                return ArcResult(arc.result, arc.sealer, arc.reason, vouched_by=name)
        return arc

    def header(self, verdict: Verdict) -> tuple[str, str]:
        """The Authentication-Results field (name, value) Postroom writes on top of the stored message."""
        results: list[object] = []
        if verdict.local_sender is not None:
            results.append(
                authres.SMTPAUTHAuthenticationResult(
                    result="pass", result_comment="an inbox of this server", smtp_auth=verdict.local_sender
                )
            )
        results += [_spf_clause(result) for result in verdict.spf]
        results += [_dkim_clause(result) for result in verdict.dkim]
        if verdict.local_sender is None and not verdict.dkim:
            results.append(authres.DKIMAuthenticationResult(result="none", result_comment="message not signed"))
        if verdict.dmarc is not None:
            results.append(_dmarc_clause(verdict.dmarc, verdict.arc))
        if verdict.arc is not None and verdict.arc.result != "none":
            results.append(_arc_clause(verdict.arc, verdict.remote_ip))
        value = authres.AuthenticationResultsHeader(authserv_id=self.authserv_id, results=results).header_value()
        return AUTHENTICATION_RESULTS, str(value)


def _reports_dmarc_pass(aar_value: object, from_domain: str) -> bool:
    if not isinstance(aar_value, bytes):
        return False
    text = " ".join(aar_value.decode("utf-8", "replace").split())
    _instance, _, rest = text.partition(";")  # "i=1; authserv-id; results..."
    try:
        parsed = _AR_FEATURES.parse_value(rest.strip())
    except authres.AuthResError:
        return False
    return any(
        result.method == "dmarc" and result.result == "pass" and str(result.header_from or "").lower() == from_domain
        for result in parsed.results
    )


def _comment(text: str) -> str | None:
    """A reason as an RFC 5322 comment: printable, no parentheses or backslashes to break the header."""
    cleaned = "".join(ch if 32 <= ord(ch) < 127 and ch not in "()\\" else " " for ch in text)
    return " ".join(cleaned.split())[:200] or None


def _identity(value: str) -> str | None:
    """An SMTP identity safe to write as a property value (anything else is left out of the header)."""
    return value if _SAFE_IDENTITY.fullmatch(value) else None


def _spf_clause(result: SpfResult) -> object:
    clause = authres.SPFAuthenticationResult(result=result.result, result_comment=_comment(result.reason))
    identity = _identity(result.subject)
    if identity is not None and result.identity == "helo":
        clause.smtp_helo = identity
    elif identity is not None:
        clause.smtp_mailfrom = identity
    return clause


def _dkim_clause(result: DkimResult) -> object:
    clause = authres.DKIMAuthenticationResult(
        result=result.result, reason=_comment(result.reason), header_d=_identity(result.domain)
    )
    if result.selector and _identity(result.selector):
        clause.header_s = result.selector
    return clause


def _dmarc_clause(dmarc: DmarcResult, arc: ArcResult | None) -> object:
    notes = []
    if dmarc.policy is not None:
        notes.append(f"p={dmarc.policy}")
    if dmarc.result == "fail" and dmarc.disposition is not None and dmarc.disposition != dmarc.policy:
        notes.append(f"applied {dmarc.disposition} after pct")
    if dmarc.result != "pass" and arc is not None and arc.vouched_by is not None:
        notes.append(f"accepted: trusted ARC sealer {arc.vouched_by} saw DMARC pass")
    if dmarc.reason:
        notes.append(dmarc.reason)
    return authres.dmarc.DMARCAuthenticationResult(
        result=dmarc.result,
        result_comment=_comment("; ".join(notes).replace(";", ",")),
        header_from=dmarc.from_domain or None,
    )


def _arc_clause(arc: ArcResult, remote_ip: str | None) -> object:
    comment = _comment(arc.reason) if arc.result != "pass" else None
    clause = authres.arc.ARCAuthenticationResult(result=arc.result, result_comment=comment)
    if arc.sealer:
        clause.header_as_d = arc.sealer
    if remote_ip:
        clause.smtp_remote_ip = remote_ip
    return clause
