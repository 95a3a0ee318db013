"""Which inboxes this server sends and receives mail for: the default domain's, and those of custom domains.

An inbox on a custom domain is served while the domain (the most specific registered domain at or above the
inbox's host) exists in the inbox's organization and pod scope, covers the host (itself, or any subdomain when
``subdomains_enabled``), and has been VERIFIED once. Receiving also needs ``inbound_enabled``. Deleting the domain
stops both; the inbox and its mail stay, and come back to life when the domain is added and verified again.
"""

from __future__ import annotations

from dataclasses import dataclass

from postroom.domain.custom_domains import CustomDomain, DkimPrivateKey, DomainStatus, ancestors
from postroom.domain.domain_records import return_path_host
from postroom.domain.inbox import Inbox
from postroom.errors import Unprocessable
from postroom.services.ports import UnitOfWork


@dataclass(frozen=True)
class SendingIdentity:
    """How mail from an inbox is signed and where its bounces go."""

    signing_domain: str
    key: DkimPrivateKey | None  # None: the server's own key of the default domain
    return_path_host: str | None  # None: the default domain (its return path is on the apex)


class HostedDomains:
    def __init__(self, default_domain: str) -> None:
        self.default_domain = default_domain

    @staticmethod
    def covering(uow: UnitOfWork, host: str) -> CustomDomain | None:
        """The most specific registered domain at or above ``host`` (it alone decides whether it covers ``host``)."""
        found = uow.custom_domains.get_many(ancestors(host))
        return max(found, key=lambda domain: len(domain.domain_id), default=None)

    def _serving(self, uow: UnitOfWork, inbox: Inbox) -> CustomDomain | None:
        domain = self.covering(uow, inbox.domain)
        if (
            domain is None
            or not domain.usable_by(inbox.organization_id, inbox.pod_id)
            or not domain.covers(inbox.domain)
            or not domain.mail_flows
        ):
            return None
        return domain

    def sending_identity(self, uow: UnitOfWork, inbox: Inbox) -> SendingIdentity | None:
        """How the inbox's mail goes out, or None when its domain no longer lets it send."""
        if inbox.domain == self.default_domain:
            return SendingIdentity(self.default_domain, None, None)
        domain = self._serving(uow, inbox)
        if domain is None:
            return None
        return SendingIdentity(domain.domain_id, domain.signing_key, return_path_host(domain.domain_id))

    def receives(self, uow: UnitOfWork, inbox: Inbox) -> bool:
        if inbox.domain == self.default_domain:
            return True
        domain = self._serving(uow, inbox)
        return domain is not None and domain.inbound_enabled

    def receives_at(self, uow: UnitOfWork, host: str) -> bool:
        """Whether mail to addresses at ``host`` is received here (so sends to it are delivered locally)."""
        if host == self.default_domain:
            return True
        domain = self.covering(uow, host)
        return domain is not None and domain.covers(host) and domain.mail_flows and domain.inbound_enabled

    def check_new_inbox(self, uow: UnitOfWork, organization_id: str, pod_id: str, host: str) -> None:
        """Unprocessable (422) unless a new inbox in the pod may live at ``host``: a VERIFIED domain the pod may use."""
        if host == self.default_domain:
            return
        domain = self.covering(uow, host)
        if domain is None or not domain.usable_by(organization_id, pod_id):
            raise Unprocessable(
                f"{host} is not a domain of this pod or organization",
                fix=f"Add it with POST /v0/domains, then verify it; or omit domain to use {self.default_domain}.",
            )
        if not domain.covers(host):
            raise Unprocessable(
                f"{host} is a subdomain of {domain.domain_id}, which does not allow subdomains",
                fix=f"Set subdomains_enabled on {domain.domain_id} (PATCH /v0/domains/{domain.domain_id}), "
                "publish its wildcard MX record and verify it again.",
            )
        if domain.status is not DomainStatus.VERIFIED:
            raise Unprocessable(
                f"{domain.domain_id} is not verified (status {domain.status.value})",
                fix=f"Publish the records of GET /v0/domains/{domain.domain_id}/zone-file, "
                f"then call POST /v0/domains/{domain.domain_id}/verify.",
            )
