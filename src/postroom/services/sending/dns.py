"""What an operator publishes in DNS for the domains Postroom sends from (zone file of §3.9)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from postroom.domain.access import Principal
from postroom.domain.zone import zone_file
from postroom.errors import NotFound
from postroom.services.access.authentication import require
from postroom.services.access.scopes import visible_pod
from postroom.services.ports import UnitOfWorkFactory


@dataclass(frozen=True)
class SendingDomain:
    domain: str
    mail_host: str
    selector: str
    dkim_txt: Callable[[], str]  # the TXT value of <selector>._domainkey.<domain> (the key is made on first use)


class DnsService:
    def __init__(self, uow_factory: UnitOfWorkFactory, domains: list[SendingDomain]) -> None:
        self._uow = uow_factory
        self._domains = {domain.domain: domain for domain in domains}

    def zone_file(self, principal: Principal, domain_id: str, pod_id: str | None = None) -> str:
        """BIND zone text of a domain: MX, SPF, the DKIM key and DMARC. The default domain serves every pod."""
        require(principal, "domain_read")
        if pod_id is not None:
            with self._uow() as uow:
                visible_pod(uow, principal, pod_id)
        domain = self._domains.get(domain_id.strip().lower())
        if domain is None:
            raise NotFound("Domain not found")
        return zone_file(
            domain=domain.domain,
            mail_host=domain.mail_host,
            selector=domain.selector,
            dkim_txt=domain.dkim_txt(),
            dmarc_rua=f"postmaster@{domain.domain}",
        )
