"""The records each domain publishes, its zone file, and how the API shows a domain (records with their status).

The default domain is the server's own: always VERIFIED, its records (MX and SPF on the apex, DKIM, DMARC) shown
as VALID and never checked, because the operator set it up with the server.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from postroom.domain.access import Organization
from postroom.domain.custom_domains import CustomDomain, DomainStatus, DomainView
from postroom.domain.domain_records import (
    CheckedRecord,
    DnsRecord,
    RecordStatus,
    custom_domain_records,
    merge,
)
from postroom.domain.zone import default_domain_records, render_zone


@dataclass(frozen=True)
class DefaultDomain:
    name: str
    dkim_txt: Callable[[], str]  # the TXT value of <selector>._domainkey.<name> (the key is made on first use)


class DomainCatalogue:
    def __init__(self, default: DefaultDomain, mail_host: str, selector: str) -> None:
        self.default = default
        self.mail_host = mail_host
        self.selector = selector

    def is_default(self, name: str) -> bool:
        return name == self.default.name

    def records(self, domain: CustomDomain) -> list[DnsRecord]:
        return custom_domain_records(
            domain.domain_id,
            mail_host=self.mail_host,
            selector=domain.dkim_selector,
            dkim_txt=domain.dkim_txt,
            inbound=domain.inbound_enabled,
            subdomains=domain.subdomains_enabled,
        )

    def view(self, domain: CustomDomain) -> DomainView:
        return DomainView(domain, merge(self.records(domain), domain.records))

    def zone(self, domain: CustomDomain) -> str:
        return render_zone(domain.domain_id, self.records(domain))

    def default_records(self) -> list[DnsRecord]:
        name = self.default.name
        return default_domain_records(
            name, self.mail_host, self.selector, self.default.dkim_txt(), (), f"postmaster@{name}"
        )

    def default_zone(self) -> str:
        return render_zone(self.default.name, self.default_records())

    def default_view(self, organization: Organization) -> DomainView:
        records = [CheckedRecord(record, RecordStatus.VALID) for record in self.default_records()]
        domain = CustomDomain(
            domain_id=self.default.name,
            organization_id=organization.organization_id,
            pod_id=None,
            feedback_enabled=True,
            inbound_enabled=True,
            subdomains_enabled=False,
            tracking_enabled=False,
            client_id=None,
            status=DomainStatus.VERIFIED,
            reason=None,
            records=records,
            dkim_selector=self.selector,
            dkim_private_pem=b"",  # the server's own key stays with the signer
            dkim_txt=records[2].record.value,
            verified_at=organization.created_at,
            checking_since=organization.created_at,
            next_check_at=None,
            check_lease_until=None,
            created_at=organization.created_at,
            updated_at=organization.created_at,
        )
        return DomainView(domain, records)
