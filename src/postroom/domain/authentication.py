"""The authentication verdict of one inbound message: SPF, DKIM, DMARC and ARC results, and what follows from them.

Result words are those of RFC 8601 §2.7 (pass, fail, softfail, neutral, none, temperror, permerror).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from postroom.domain.dmarc import Policy


@dataclass(frozen=True)
class SpfResult:
    identity: str  # "mailfrom" or "helo"
    subject: str  # the MAIL FROM address, or the HELO name
    domain: str  # the domain SPF was evaluated for
    result: str
    reason: str = ""


@dataclass(frozen=True)
class DkimResult:
    domain: str  # the signature's d=
    selector: str
    result: str
    reason: str = ""


@dataclass(frozen=True)
class ArcResult:
    result: str  # pass, fail or none (the chain validation status)
    sealer: str | None = None  # d= of the newest ARC-Seal
    reason: str = ""
    # A trusted sealer's ARC-Authentication-Results of the first hop said DMARC passed there.
    vouched_by: str | None = None


@dataclass(frozen=True)
class DmarcResult:
    result: str  # pass, fail, none, temperror, permerror
    from_domain: str
    policy: Policy | None = None  # the published policy that applies (p or sp)
    disposition: Policy | None = None  # what to do with a failing message after pct
    reason: str = ""


@dataclass(frozen=True)
class Verdict:
    """Everything Postroom learned about who sent a message, and the one bit an agent acts on."""

    spf: list[SpfResult] = field(default_factory=list)
    dkim: list[DkimResult] = field(default_factory=list)
    dmarc: DmarcResult | None = None
    arc: ArcResult | None = None
    aligned_pass: bool = False  # an SPF or DKIM pass aligned with the From domain
    local_sender: str | None = None  # the inbox of this server the message came from (authenticated by construction)
    remote_ip: str | None = None

    @property
    def authenticated(self) -> bool:
        if self.local_sender is not None:
            return True
        if self.dmarc is not None and self.dmarc.result == "pass":
            return True
        if self.arc is not None and self.arc.vouched_by is not None:
            return True
        # No DMARC record to say otherwise: an aligned pass is still a passing, aligned authentication.
        return self.aligned_pass and (self.dmarc is None or self.dmarc.result == "none")

    @property
    def refusal(self) -> str | None:
        """Why the message is refused at the end of DATA (DMARC fail under p=reject), or None to accept it."""
        dmarc = self.dmarc
        if dmarc is None or dmarc.result != "fail" or dmarc.disposition != "reject" or self.authenticated:
            return None
        return f"DMARC policy of {dmarc.from_domain} rejects this message: SPF and DKIM do not pass aligned"
