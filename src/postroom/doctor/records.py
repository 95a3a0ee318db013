"""DNS checks: the resolver answers, and each domain publishes the MX, SPF, DKIM and DMARC records it should.

Records are judged by the same code that verifies custom domains (``DomainVerifier``), so the doctor and the
Domains API never disagree. The default domain and verified custom domains fail on a bad record; a custom domain
still being verified only warns (its owner may not have published its records yet).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from postroom.config import Settings
from postroom.delivery.dkim import public_txt_of
from postroom.dns.resolver import DnsResolver, TemporaryLookupError, parse_dns_servers
from postroom.doctor.report import Check, Status, first_line
from postroom.domain.custom_domains import DomainStatus
from postroom.domain.domain_records import CheckedRecord, Purpose, RecordStatus
from postroom.runtime import mail_host
from postroom.services.domains.catalogue import DefaultDomain, DomainCatalogue
from postroom.services.domains.verification import DomainVerifier
from postroom.services.ports import Clock
from postroom.storage.uow import SqlUnitOfWorkFactory

# RFC 6761 / RFC 2606 names: never in public DNS, so there is nothing to check for them.
SPECIAL_USE = ("localhost", "test", "invalid", "example", "local")
_PURPOSES = {
    Purpose.INBOUND_MX: "MX",
    Purpose.SUBDOMAIN_MX: "MX (subdomains)",
    Purpose.RETURN_PATH_MX: "MX (return path)",
    Purpose.RETURN_PATH_SPF: "SPF (return path)",
    Purpose.APEX_SPF: "SPF",
    Purpose.DKIM: "DKIM",
    Purpose.DMARC: "DMARC",
}


class _NoWakeups:
    """The doctor only reads DNS; it never commits work a worker would need waking for."""

    def outbox_committed(self, event_ids: list[str]) -> None:
        return None

    def jobs_queued(self) -> None:
        return None


def resolver_of(settings: Settings) -> DnsResolver:
    return DnsResolver(parse_dns_servers(settings.dns_servers))


def check_resolution(settings: Settings) -> Check:
    """Ask the configured nameservers about the default domain: any answer, even "no such name", is an answer."""
    servers = settings.dns_servers or "the system's nameservers"
    try:
        resolver_of(settings).lookup(settings.default_domain.strip().lower(), "SOA")
    except TemporaryLookupError as error:
        return Check("DNS resolution", Status.FAIL, f"{servers} did not answer: {first_line(error)}")
    except ValueError as error:
        return Check("DNS resolution", Status.FAIL, f"POSTROOM_DNS_SERVERS: {error}")
    return Check("DNS resolution", Status.OK, f"{servers} answer")


def check_domains(settings: Settings, factory: SqlUnitOfWorkFactory | None, clock: Clock) -> list[Check]:
    """One line per record of the default domain and of each custom domain (both need the database's keys)."""
    name = settings.default_domain.strip().lower()
    special = name.rsplit(".", 1)[-1] in SPECIAL_USE
    checks: list[Check] = []
    if special:
        checks.append(Check(f"{name} records", Status.WARN, "a special-use name: it has no public DNS to check"))
    if factory is None:
        if not special:
            checks.append(Check(f"{name} records", Status.FAIL, "not checked: the database is not usable"))
        return checks
    with factory() as uow:
        pem = uow.secrets.get(f"dkim:{name}:{settings.dkim_selector}")
        domains = uow.custom_domains.every()
    dkim_txt = public_txt_of(pem) if pem else ""
    catalogue = DomainCatalogue(DefaultDomain(name, lambda: dkim_txt), mail_host(settings), settings.dkim_selector)
    verifier = DomainVerifier(factory, catalogue, resolver_of(settings), clock, _NoWakeups())
    if not special and not pem:
        checks.append(Check(f"{name} DKIM", Status.FAIL, "no DKIM key yet: `postroom serve` makes it on first start"))
    elif not special:
        checks += _judged(name, partial(verifier.check_records, catalogue.default_records()), Status.FAIL)
    for domain in domains:
        bad = Status.FAIL if domain.status is DomainStatus.VERIFIED else Status.WARN
        checks += _judged(domain.domain_id, partial(verifier.check, domain), bad)
    return checks


def _judged(domain: str, check: Callable[[], list[CheckedRecord]], bad: Status) -> list[Check]:
    try:
        records = check()
    except TemporaryLookupError as error:
        return [Check(f"{domain} records", bad, f"DNS did not answer: {first_line(error)}")]
    return [_line(domain, checked, bad) for checked in records]


def _line(domain: str, checked: CheckedRecord, bad: Status) -> Check:
    record = checked.record
    name = f"{domain} {_PURPOSES.get(record.purpose, record.purpose.value)}"
    if checked.status is RecordStatus.VALID:
        return Check(name, Status.OK, f"{record.type.value} {record.name} is published")
    value = record.value if len(record.value) <= 60 else f"{record.value[:57]}..."
    what = "missing" if checked.status is RecordStatus.MISSING else f"wrong ({checked.reason or 'invalid'})"
    return Check(name, bad, f"{record.type.value} {record.name} {what}: publish {value!r}")
