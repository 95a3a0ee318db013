"""Verifying custom domains against real DNS: one domain on request, or every domain whose next check is due.

DNS is asked through the ``DnsLookup`` port outside any transaction; the result is then applied in a short one that
re-reads the domain (it may have changed or gone meanwhile) and, when the domain just became VERIFIED, adds the
``domain.verified`` outbox row. Due domains are claimed under a lease, so several processes share the checking.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from postroom.domain.custom_domains import CustomDomain, DomainStatus, check_delay, settle
from postroom.domain.domain_records import CheckedRecord, DnsRecord, Purpose, judge, merge, tags
from postroom.domain.events import DOMAIN_VERIFIED, OutboxEvent
from postroom.domain.ids import new_id
from postroom.errors import NotFound, ServiceUnavailable, TemporaryLookupError
from postroom.services.domains.catalogue import DomainCatalogue
from postroom.services.domains.names import registrable_part
from postroom.services.outbox import commit_and_wake
from postroom.services.ports import Clock, DnsLookup, UnitOfWork, UnitOfWorkFactory, Wakeups

log = logging.getLogger("postroom.domains")
CHECK_LEASE = timedelta(minutes=5)


def domain_verified(domain: CustomDomain, now: datetime) -> OutboxEvent:
    return OutboxEvent(
        event_id=new_id("evt"),
        event_type=DOMAIN_VERIFIED,
        organization_id=domain.organization_id,
        pod_id=domain.pod_id,
        inbox_id=None,
        message_row_id=None,
        created_at=now,
        data={"domain_id": domain.domain_id},
    )


def record_settled(uow: UnitOfWork, domain: CustomDomain, records: list[CheckedRecord], now: datetime) -> None:
    """Store the domain with these record statuses; a domain that just became VERIFIED emits ``domain.verified``."""
    became_verified = settle(domain, records, now, checked=True)
    uow.custom_domains.update(domain)
    if became_verified:
        uow.outbox.add(domain_verified(domain, now))


class DomainVerifier:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        catalogue: DomainCatalogue,
        dns: DnsLookup,
        clock: Clock,
        wakeups: Wakeups,
    ) -> None:
        self._uow = uow_factory
        self._catalogue = catalogue
        self._dns = dns
        self._clock = clock
        self._wakeups = wakeups

    def verify(self, domain: CustomDomain) -> CustomDomain:
        """Check the domain now and record the outcome; a domain not VERIFIED gets a fresh 72-hour window.

        ServiceUnavailable (nothing changed) when DNS does not answer.
        """
        try:
            checked = self.check(domain)
        except TemporaryLookupError as error:
            raise ServiceUnavailable(
                f"DNS did not answer while checking {domain.domain_id}; nothing was changed",
                fix="Try again in a minute.",
            ) from error
        found = self._record(domain, checked, restart=True)
        if found is None:
            raise NotFound("Domain not found")
        return found

    def check_due(self, limit: int) -> int:
        """Check up to ``limit`` domains whose next check is due; returns how many were claimed."""
        now = self._clock.now()
        with self._uow(write=True) as uow:
            due = uow.custom_domains.claim_due(now, now + CHECK_LEASE, limit)
            uow.commit()
        for domain in due:
            try:
                checked = self.check(domain)
            except TemporaryLookupError as error:
                log.info("DNS did not answer for %s (%s); checking again later", domain.domain_id, error)
                self._postpone(domain)
                continue
            self._record(domain, checked, restart=False)
        return len(due)

    def check(self, domain: CustomDomain) -> list[CheckedRecord]:
        """Every record the domain publishes, judged against what DNS answers now."""
        return self.check_records(self._catalogue.records(domain))

    def check_records(self, records: list[DnsRecord]) -> list[CheckedRecord]:
        """These records judged against what DNS answers now (``TemporaryLookupError`` when it does not answer)."""
        return [judge(record, self._answers(record)) for record in records]

    def _answers(self, record: DnsRecord) -> list[str]:
        answers = self._dns.lookup(record.name, record.type.value)
        if record.purpose is Purpose.DMARC and not any(tags(a).get("v", "").upper() == "DMARC1" for a in answers):
            # RFC 7489 §6.6.3: a subdomain without a record of its own takes its organizational domain's.
            domain = record.name.removeprefix("_dmarc.")
            organizational = registrable_part(domain)
            if organizational is not None and organizational != domain:
                answers = self._dns.lookup(f"_dmarc.{organizational}", record.type.value)
        return answers

    def _record(self, snapshot: CustomDomain, checked: list[CheckedRecord], *, restart: bool) -> CustomDomain | None:
        with self._uow(write=True) as uow:
            domain = uow.custom_domains.get(snapshot.domain_id, lock=True)
            if domain is None or domain.created_at != snapshot.created_at:
                return None  # deleted (or deleted and added again) while DNS was asked
            now = self._clock.now()
            if restart and domain.status is not DomainStatus.VERIFIED:
                domain.checking_since = now
            domain.check_lease_until = None
            # The settings may have changed while DNS was asked: records no longer wanted drop out, new ones wait.
            record_settled(uow, domain, merge(self._catalogue.records(domain), checked), now)
            commit_and_wake(uow, self._wakeups)
        return domain

    def _postpone(self, snapshot: CustomDomain) -> None:
        with self._uow(write=True) as uow:
            domain = uow.custom_domains.get(snapshot.domain_id, lock=True)
            if domain is not None and domain.created_at == snapshot.created_at:
                now = self._clock.now()
                domain.check_lease_until = None
                domain.next_check_at = now + check_delay(now - domain.checking_since)
                uow.custom_domains.update(domain)
                uow.commit()
