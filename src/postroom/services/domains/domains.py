"""Custom domains through the API (spec §3.9): create, get, list, update, delete, verify, zone file.

A domain belongs to its organization (usable by every pod) or to one pod (usable by that pod only); a pod key or
a pod route sees its pod's domains and the organization's, and changes only its pod's. An inbox key sees none.
The default domain is listed for everyone as VERIFIED and cannot be changed or deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from postroom.domain.access import Principal, ScopeType
from postroom.domain.custom_domains import (
    FIRST_CHECK_DELAY,
    CustomDomain,
    DomainScope,
    DomainStatus,
    DomainView,
    settle,
)
from postroom.domain.domain_records import merge
from postroom.domain.inbox import check_client_id
from postroom.domain.pagination import PageRequest, PageTokens, Position
from postroom.errors import Conflict, Forbidden, InvalidInput, NotFound, TemporaryLookupError, Unprocessable
from postroom.services.access.authentication import require
from postroom.services.access.scopes import visible_pod
from postroom.services.domains.catalogue import DomainCatalogue
from postroom.services.domains.names import normalize_domain_name, parse_domain_id
from postroom.services.domains.verification import DomainVerifier, domain_verified
from postroom.services.metrics import usage
from postroom.services.outbox import commit_and_wake
from postroom.services.paging import ListParams, Page, empty_page, paginate
from postroom.services.ports import Clock, DkimKeys, DnsLookup, UnitOfWork, UnitOfWorkFactory, Wakeups

# MX hosts of Google Workspace: registering a domain that receives there would take its mail away (spec §3.9).
CONFLICTING_MX_SUFFIXES = (".google.com", ".googlemail.com")


@dataclass(frozen=True)
class NewDomain:
    domain: str
    feedback_enabled: bool = True
    inbound_enabled: bool = True
    subdomains_enabled: bool = False
    tracking_enabled: bool = False
    allow_conflicting_provider: bool = False
    client_id: str | None = None


@dataclass(frozen=True)
class DomainChanges:
    """Fields of a PATCH; None leaves the setting as it is."""

    feedback_enabled: bool | None = None
    inbound_enabled: bool | None = None
    subdomains_enabled: bool | None = None
    tracking_enabled: bool | None = None

    def empty(self) -> bool:
        return all(value is None for value in vars(self).values())


def _no_tracking(tracking_enabled: bool | None) -> None:
    if tracking_enabled:
        raise Unprocessable(
            "Open tracking is not supported by this server, so tracking_enabled cannot be set",
            fix="Leave tracking_enabled out (or false).",
        )


class DomainService:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        tokens: PageTokens,
        catalogue: DomainCatalogue,
        verifier: DomainVerifier,
        dns: DnsLookup,
        keys: DkimKeys,
        clock: Clock,
        wakeups: Wakeups,
    ) -> None:
        self._uow = uow_factory
        self._tokens = tokens
        self._catalogue = catalogue
        self._verifier = verifier
        self._dns = dns
        self._keys = keys
        self._clock = clock
        self._wakeups = wakeups

    # --- who sees what -------------------------------------------------------------------------------------------

    @staticmethod
    def _scope_pod(uow: UnitOfWork, principal: Principal, pod_id: str | None) -> str | None:
        """The pod a route or key narrows to (None: the whole organization); NotFound for a pod out of scope."""
        if pod_id is not None:
            return visible_pod(uow, principal, pod_id).pod_id
        return principal.pod_id

    def _default_view(self, uow: UnitOfWork, principal: Principal) -> DomainView:
        organization = uow.organizations.get(principal.organization_id)
        assert organization is not None
        return self._catalogue.default_view(organization)

    def _visible(self, uow: UnitOfWork, principal: Principal, domain_id: str, pod_id: str | None) -> CustomDomain:
        """A custom domain the caller may see on this route; NotFound otherwise (and for the default domain)."""
        if principal.scope_type is ScopeType.INBOX:
            raise NotFound("Domain not found")
        scope_pod = self._scope_pod(uow, principal, pod_id)
        name = parse_domain_id(domain_id)
        domain = uow.custom_domains.get(name) if name is not None else None
        if (
            domain is None
            or domain.organization_id != principal.organization_id
            or (scope_pod is not None and domain.pod_id not in (None, scope_pod))
        ):
            raise NotFound("Domain not found")
        return domain

    def _writable(self, uow: UnitOfWork, principal: Principal, domain_id: str, pod_id: str | None) -> CustomDomain:
        self._refuse_default(principal, domain_id)
        domain = self._visible(uow, principal, domain_id, pod_id)
        if domain.pod_id is None and self._scope_pod(uow, principal, pod_id) is not None:
            raise Forbidden(
                f"{domain.domain_id} belongs to the whole organization; a pod key or pod route cannot change it",
                fix="Use an organization key on /v0/domains.",
            )
        return domain

    def _refuse_default(self, principal: Principal, domain_id: str) -> None:
        if principal.scope_type is not ScopeType.INBOX and parse_domain_id(domain_id) == self._catalogue.default.name:
            raise Forbidden(
                f"{self._catalogue.default.name} is the server's default domain; it cannot be changed or deleted",
                code="cannot_delete",
            )

    def _is_default(self, principal: Principal, domain_id: str) -> bool:
        return principal.scope_type is not ScopeType.INBOX and self._catalogue.is_default(
            parse_domain_id(domain_id) or ""
        )

    # --- use cases -----------------------------------------------------------------------------------------------

    def create(self, principal: Principal, request: NewDomain, pod_id: str | None = None) -> DomainView:
        require(principal, "domain_create")
        if principal.scope_type is ScopeType.INBOX:
            raise Forbidden("An inbox key cannot create domains")
        name = normalize_domain_name(request.domain)
        client_id = check_client_id(request.client_id) if request.client_id is not None else None
        _no_tracking(request.tracking_enabled)
        if name == self._catalogue.default.name or name.endswith("." + self._catalogue.default.name):
            raise Conflict(f"{name} is held by this server (its default domain)", code="already_exists")
        with self._uow() as uow:
            owner_pod = self._scope_pod(uow, principal, pod_id)
            if (existing := self._existing(uow, principal, name, owner_pod, client_id)) is not None:
                return self._catalogue.view(existing)
        if request.inbound_enabled and not request.allow_conflicting_provider:
            self._refuse_conflicting_provider(name)
        private_pem, dkim_txt = self._keys.new_key()
        now = self._clock.now()
        domain = CustomDomain(
            domain_id=name,
            organization_id=principal.organization_id,
            pod_id=owner_pod,
            feedback_enabled=request.feedback_enabled,
            inbound_enabled=request.inbound_enabled,
            subdomains_enabled=request.subdomains_enabled,
            tracking_enabled=False,
            client_id=client_id,
            status=DomainStatus.NOT_STARTED,
            reason=None,
            records=[],
            dkim_selector=self._catalogue.selector,
            dkim_private_pem=private_pem,
            dkim_txt=dkim_txt,
            verified_at=None,
            checking_since=now,
            next_check_at=now + FIRST_CHECK_DELAY,
            check_lease_until=None,
            created_at=now,
            updated_at=now,
        )
        with self._uow(write=True) as uow:
            if (existing := self._existing(uow, principal, name, owner_pod, client_id)) is not None:
                return self._catalogue.view(existing)  # a concurrent create won
            try:
                uow.custom_domains.add(domain)
                usage.domain_counted(uow, domain, 1, domain.created_at)
                uow.commit()
            except Conflict as error:
                raise Conflict(f"{name} was just added by someone else", code="already_exists") from error
        return self._catalogue.view(domain)

    def _existing(
        self, uow: UnitOfWork, principal: Principal, name: str, owner_pod: str | None, client_id: str | None
    ) -> CustomDomain | None:
        """The domain a repeated create returns; Conflict for a name (or client_id) held elsewhere."""
        if client_id is not None:
            by_client = uow.custom_domains.get_by_client_id(principal.organization_id, client_id)
            if by_client is not None:
                if by_client.pod_id != owner_pod or by_client.domain_id != name:
                    raise Conflict("client_id is already used by another domain", code="already_exists")
                return by_client
        for other in uow.custom_domains.overlapping(name):
            same_scope = other.organization_id == principal.organization_id and other.pod_id == owner_pod
            if other.domain_id == name and same_scope:
                return other
            if not same_scope:
                relation = "is" if other.domain_id == name else "overlaps"
                raise Conflict(
                    f"{name} {relation} a domain another organization or pod holds",
                    code="already_exists",
                    fix="A domain and its subdomains belong to one organization or pod.",
                )
        return None

    def _refuse_conflicting_provider(self, name: str) -> None:
        try:
            exchanges = [answer.partition(" ")[2].rstrip(".").lower() for answer in self._dns.lookup(name, "MX")]
        except TemporaryLookupError:
            return  # cannot tell now; verification will show where the MX points
        google = [host for host in exchanges if host.endswith(CONFLICTING_MX_SUFFIXES)]
        if google:
            raise Unprocessable(
                f"{name} receives mail at Google Workspace ({google[0]}); registering it here would take that mail",
                code="conflicting_provider",
                fix="Pass allow_conflicting_provider=true to register it anyway, or set inbound_enabled=false.",
            )

    def get(self, principal: Principal, domain_id: str, pod_id: str | None = None) -> DomainView:
        require(principal, "domain_read")
        with self._uow() as uow:
            if self._is_default(principal, domain_id):
                self._scope_pod(uow, principal, pod_id)
                return self._default_view(uow, principal)
            return self._catalogue.view(self._visible(uow, principal, domain_id, pod_id))

    def list(self, principal: Principal, params: ListParams, pod_id: str | None = None) -> Page[CustomDomain]:
        """Newest first (or oldest with ``ascending``); the default domain sorts by the organization's creation."""
        require(principal, "domain_read")
        if principal.scope_type is ScopeType.INBOX:
            return empty_page(params)
        with self._uow() as uow:
            scope = DomainScope(principal.organization_id, self._scope_pod(uow, principal, pod_id))
            default = self._default_view(uow, principal).domain

            def fetch(page_request: PageRequest) -> list[CustomDomain]:
                rows = uow.custom_domains.list_page(scope, page_request)
                if page_request.after is None or _after(default, page_request.after, params.ascending):
                    rows.append(default)
                rows.sort(key=_order, reverse=not params.ascending)
                return rows[: page_request.limit]

            return paginate(
                self._tokens, "domains.list", f"{scope.pod_id}|{params.ascending}", params, fetch, _position
            )

    def update(
        self, principal: Principal, domain_id: str, changes: DomainChanges, pod_id: str | None = None
    ) -> DomainView:
        require(principal, "domain_update")
        if changes.empty():
            raise InvalidInput(
                "An update must include feedback_enabled, inbound_enabled, subdomains_enabled or tracking_enabled",
                field="",
            )
        _no_tracking(changes.tracking_enabled)
        with self._uow(write=True) as uow:
            domain = self._writable(uow, principal, domain_id, pod_id)
            now = self._clock.now()
            if changes.feedback_enabled is not None:
                domain.feedback_enabled = changes.feedback_enabled
            before = self._catalogue.records(domain)
            if changes.inbound_enabled is not None:
                domain.inbound_enabled = changes.inbound_enabled
            if changes.subdomains_enabled is not None:
                domain.subdomains_enabled = changes.subdomains_enabled
            records = merge(self._catalogue.records(domain), domain.records)
            domain.updated_at = now
            if domain.status is not DomainStatus.NOT_STARTED and records != merge(before, domain.records):
                # New records (an MX) wait for the next check, which comes soon; sending is not interrupted. Someone
                # is working on the domain: a domain not verified gets a fresh window of checks.
                if domain.status is not DomainStatus.VERIFIED:
                    domain.checking_since = now
                if settle(domain, records, now, checked=False):
                    uow.outbox.add(domain_verified(domain, now))
                if domain.next_check_at is None or domain.next_check_at > now + FIRST_CHECK_DELAY:
                    domain.next_check_at = now + FIRST_CHECK_DELAY
            uow.custom_domains.update(domain)
            commit_and_wake(uow, self._wakeups)
        return self._catalogue.view(domain)

    def delete(self, principal: Principal, domain_id: str, pod_id: str | None = None) -> None:
        """Its inboxes stay, with their mail, but neither send nor receive until the domain is back and verified."""
        require(principal, "domain_delete")
        with self._uow(write=True) as uow:
            domain = self._writable(uow, principal, domain_id, pod_id)
            uow.custom_domains.delete(domain.domain_id)
            usage.domain_counted(uow, domain, -1, self._clock.now())
            uow.commit()

    def verify(self, principal: Principal, domain_id: str, pod_id: str | None = None) -> DomainView:
        require(principal, "domain_update")
        with self._uow() as uow:
            if self._is_default(principal, domain_id):
                self._scope_pod(uow, principal, pod_id)
                return self._default_view(uow, principal)  # the server's own: nothing to check
            domain = self._visible(uow, principal, domain_id, pod_id)
        return self._catalogue.view(self._verifier.verify(domain))

    def zone_file(self, principal: Principal, domain_id: str, pod_id: str | None = None) -> str:
        require(principal, "domain_read")
        with self._uow() as uow:
            if self._is_default(principal, domain_id):
                self._scope_pod(uow, principal, pod_id)
                return self._catalogue.default_zone()
            return self._catalogue.zone(self._visible(uow, principal, domain_id, pod_id))


def _position(domain: CustomDomain) -> Position:
    return domain.created_at.isoformat(), domain.domain_id


def _order(domain: CustomDomain) -> tuple[datetime, str]:
    return domain.created_at, domain.domain_id


def _after(domain: CustomDomain, token: Position, ascending: bool) -> bool:
    """Whether ``domain`` comes after the page token's position in the listing's order."""
    try:
        position = (datetime.fromisoformat(str(token[0])), str(token[1]))
    except (ValueError, IndexError) as error:
        raise InvalidInput("page_token is invalid", field="page_token") from error
    return _order(domain) > position if ascending else _order(domain) < position
