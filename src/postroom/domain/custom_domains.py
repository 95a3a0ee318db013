"""Custom domains (spec §2 Domain): the entity, its verification status, the check schedule, and which inbox
addresses a domain serves.

A domain is VERIFIED when every record is VALID; then mail flows (``verified_at`` is set) and keeps flowing even
if a record later goes missing, which only sends the domain back to PENDING (or INVALID) until it is fixed.

Checks are frequent at first and then spread out: the delay after a check is a quarter of the time since the
current verification window opened, between a minute and an hour. A domain that has not verified within 72 hours
is FAILED and no longer checked until someone asks (``verify`` opens a new window). A VERIFIED domain, and a
domain that once was, is re-checked daily.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from postroom.domain.domain_records import CheckedRecord, RecordStatus

REASON_RECORDS_MISSING = "dns_records_missing"
REASON_RECORDS_INVALID = "dns_records_invalid"

FIRST_CHECK_DELAY = timedelta(minutes=1)
MIN_CHECK_DELAY = timedelta(minutes=1)
MAX_CHECK_DELAY = timedelta(hours=1)
VERIFICATION_WINDOW = timedelta(hours=72)
DAILY_RECHECK = timedelta(days=1)


class DomainStatus(enum.StrEnum):
    NOT_STARTED = "NOT_STARTED"  # created, not checked yet
    PENDING = "PENDING"  # records missing
    VERIFYING = "VERIFYING"  # part of the SDK's enum; checks here are synchronous, so never reported
    VERIFIED = "VERIFIED"
    INVALID = "INVALID"  # a record is there but wrong
    FAILED = "FAILED"  # not verified within the verification window


@dataclass(frozen=True)
class DkimPrivateKey:
    """A custom domain's own signing key (RSA-2048, PEM); kept out of reprs and logs."""

    selector: str
    private_pem: bytes = field(repr=False)


@dataclass
class CustomDomain:
    domain_id: str  # the normalised name (lower case, IDNA A-labels, no trailing dot)
    organization_id: str
    pod_id: str | None  # None: usable by every pod of the organization
    feedback_enabled: bool
    inbound_enabled: bool
    subdomains_enabled: bool
    tracking_enabled: bool
    client_id: str | None
    status: DomainStatus
    reason: str | None
    records: list[CheckedRecord]  # as last checked; the records to publish are derived from the settings
    dkim_selector: str
    dkim_private_pem: bytes = field(repr=False)
    dkim_txt: str  # the public half, as the TXT value to publish
    verified_at: datetime | None  # first time VERIFIED: mail flows from then on
    checking_since: datetime  # when the current verification window opened
    next_check_at: datetime | None  # None: not checked again until someone asks
    check_lease_until: datetime | None  # a checker holds the domain until then
    created_at: datetime
    updated_at: datetime

    @property
    def name(self) -> str:
        return self.domain_id

    @property
    def mail_flows(self) -> bool:
        return self.verified_at is not None

    @property
    def signing_key(self) -> DkimPrivateKey:
        return DkimPrivateKey(self.dkim_selector, self.dkim_private_pem)

    def covers(self, host: str) -> bool:
        """Whether an inbox at ``host`` belongs to this domain: the domain itself, or a subdomain when allowed."""
        return host == self.domain_id or (self.subdomains_enabled and host.endswith("." + self.domain_id))

    def usable_by(self, organization_id: str, pod_id: str) -> bool:
        """Organization domains serve every pod of the organization; pod domains that pod only."""
        return self.organization_id == organization_id and self.pod_id in (None, pod_id)


@dataclass(frozen=True)
class DomainView:
    """A domain as the API shows it: with every record to publish and its status."""

    domain: CustomDomain
    records: list[CheckedRecord]


@dataclass(frozen=True)
class DomainScope:
    """Which domains a listing may return: one organization's, or those usable by one pod (its own and org-wide)."""

    organization_id: str
    pod_id: str | None = None


def ancestors(host: str) -> list[str]:
    """``a.b.example.test`` → itself and every parent of at least two labels, most specific first."""
    labels = host.split(".")
    return [".".join(labels[start:]) for start in range(len(labels) - 1)]


def verdict(records: Sequence[CheckedRecord]) -> tuple[DomainStatus, str | None]:
    statuses = {checked.status for checked in records}
    if RecordStatus.INVALID in statuses:
        return DomainStatus.INVALID, REASON_RECORDS_INVALID
    if RecordStatus.MISSING in statuses or not records:
        return DomainStatus.PENDING, REASON_RECORDS_MISSING
    return DomainStatus.VERIFIED, None


def check_delay(elapsed: timedelta) -> timedelta:
    """A quarter of the time the window has been open, between a minute and an hour."""
    return min(MAX_CHECK_DELAY, max(MIN_CHECK_DELAY, elapsed / 4))


def next_check(domain: CustomDomain, now: datetime) -> datetime | None:
    if domain.status is DomainStatus.VERIFIED:
        return now + DAILY_RECHECK
    if domain.status is DomainStatus.FAILED:
        return now + DAILY_RECHECK if domain.mail_flows else None
    return now + check_delay(now - domain.checking_since)


def settle(domain: CustomDomain, records: list[CheckedRecord], now: datetime, *, checked: bool) -> bool:
    """Take the records' statuses as the domain's, and schedule its next check; True when it just became VERIFIED.

    ``checked`` says the statuses come from DNS just now (rather than from a change of the domain's settings):
    only a real check past the verification window fails the domain.
    """
    status, reason = verdict(records)
    was_verified = domain.status is DomainStatus.VERIFIED
    if status is DomainStatus.VERIFIED:
        domain.verified_at = domain.verified_at or now
    elif was_verified:
        domain.checking_since = now  # a record went away: check often again until it is back
    elif checked and now - domain.checking_since >= VERIFICATION_WINDOW:
        status = DomainStatus.FAILED
    changed = (status, reason, _statuses(records)) != (domain.status, domain.reason, _statuses(domain.records))
    domain.status, domain.reason, domain.records = status, reason, records
    domain.next_check_at = next_check(domain, now)
    if changed:
        domain.updated_at = now
    return status is DomainStatus.VERIFIED and not was_verified


def _statuses(records: Sequence[CheckedRecord]) -> list[tuple[str, str, str, str | None]]:
    return [(c.record.name, c.record.value, c.status.value, c.reason) for c in records]
