"""DMARC rules (RFC 7489): the policy record's tags, identifier alignment and which policy applies.

Written by hand: the libraries that do DMARC either ignore ``pct`` and all but the first DKIM signature
(authheaders) or audit a domain's whole setup with network checks of their own (checkdmarc). Policy discovery
(the DNS part) lives in the service; the organizational domain comes from the Public Suffix List through a function
the caller passes in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

Policy = Literal["none", "quarantine", "reject"]
Mode = Literal["r", "s"]
_POLICIES: dict[str, Policy] = {"none": "none", "quarantine": "quarantine", "reject": "reject"}
_MODES: dict[str, Mode] = {"r": "r", "s": "s"}
# pct sampling: a failing message outside the sample gets the next policy down (RFC 7489 §6.6.4).
WEAKER: dict[Policy, Policy] = {"reject": "quarantine", "quarantine": "none", "none": "none"}


class InvalidRecord(ValueError):
    """A TXT record that starts with v=DMARC1 but breaks the syntax (a permerror)."""


@dataclass(frozen=True)
class DmarcRecord:
    policy: Policy
    subdomain_policy: Policy | None = None
    percent: int = 100
    dkim_mode: Mode = "r"
    spf_mode: Mode = "r"


def is_dmarc_record(text: str) -> bool:
    first = text.strip().split(";", 1)[0]
    return first.replace(" ", "").replace("\t", "") == "v=DMARC1"


def parse_record(text: str) -> DmarcRecord:
    """The tags of one ``v=DMARC1`` record; unknown tags are ignored, a bad ``p`` is an InvalidRecord."""
    tags: dict[str, str] = {}
    for part in text.split(";"):
        name, equals, value = part.partition("=")
        if not part.strip():
            continue
        if not equals:
            raise InvalidRecord(f"tag without a value: {part.strip()!r}")
        tags.setdefault(name.strip().lower(), value.strip())
    if tags.get("v") != "DMARC1":
        raise InvalidRecord("the record must start with v=DMARC1")
    policy = _POLICIES.get(tags.get("p", "").lower())
    if policy is None:
        # RFC 7489 §6.6.3: a record without a valid p but with rua is treated as p=none; without rua it is void.
        if "rua" not in tags:
            raise InvalidRecord("p must be none, quarantine or reject")
        policy = "none"
    percent_text = tags.get("pct", "100")
    percent = int(percent_text) if percent_text.isdigit() else 100
    return DmarcRecord(
        policy=policy,
        subdomain_policy=_POLICIES.get(tags.get("sp", "").lower()),
        percent=min(100, percent),
        dkim_mode=_MODES.get(tags.get("adkim", "r").lower(), "r"),
        spf_mode=_MODES.get(tags.get("aspf", "r").lower(), "r"),
    )


def aligned(identifier: str, from_domain: str, mode: Mode, organizational: Callable[[str], str]) -> bool:
    """Whether an authenticated domain (DKIM d=, SPF MAIL FROM) aligns with the From domain (RFC 7489 §3.1)."""
    identifier, from_domain = identifier.lower().rstrip("."), from_domain.lower().rstrip(".")
    if not identifier or not from_domain:
        return False
    if mode == "s":
        return identifier == from_domain
    return organizational(identifier) == organizational(from_domain)


def applicable_policy(record: DmarcRecord, found_at_from_domain: bool) -> Policy:
    """p for the From domain's own record; sp (else p) when the record came from the organizational domain."""
    if found_at_from_domain:
        return record.policy
    return record.subdomain_policy or record.policy


def sampled_policy(policy: Policy, percent: int, draw: float) -> Policy:
    """The policy after ``pct``: applied when ``draw`` (uniform in [0, 1)) falls inside the sample."""
    return policy if draw * 100 < percent else WEAKER[policy]
