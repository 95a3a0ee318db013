"""Inboxes: create (generated or chosen address, idempotent by client_id), get, list, search, update, delete.

Deleting an inbox deletes its threads, messages and keys with it, and then its blobs.
"""

from __future__ import annotations

from dataclasses import dataclass

from postroom.domain.access import Principal, ScopeType, granted_permissions
from postroom.domain.inbox import (
    Inbox,
    InboxStatus,
    check_client_id,
    check_display_name,
    merge_metadata,
    normalize_domain,
    normalize_username,
    validate_new_metadata,
)
from postroom.domain.listing import InboxScope
from postroom.domain.names import generate_username
from postroom.domain.pagination import PageTokens
from postroom.errors import Conflict, Forbidden, InvalidInput, Unprocessable
from postroom.services.access.authentication import require
from postroom.services.access.scopes import visible_inbox, visible_pod
from postroom.services.domains.hosting import HostedDomains
from postroom.services.mail.filing import blob_prefix
from postroom.services.metrics import usage
from postroom.services.paging import ListParams, Page, paginate
from postroom.services.ports import BlobStore, Clock, UnitOfWork, UnitOfWorkFactory

GENERATED_USERNAME_ATTEMPTS = 8
MIN_QUERY_CHARS = 2
MAX_QUERY_CHARS = 256


@dataclass(frozen=True)
class NewInbox:
    username: str | None = None
    domain: str | None = None
    display_name: str | None = None
    client_id: str | None = None
    status: InboxStatus = InboxStatus.ACTIVE
    metadata: dict[str, object] | None = None


@dataclass(frozen=True)
class InboxChanges:
    """Fields of a PATCH; ``*_given`` tells an absent field from an explicit ``null``."""

    display_name: str | None = None
    display_name_given: bool = False
    status: InboxStatus | None = None
    metadata: dict[str, object] | None = None
    metadata_given: bool = False


class InboxService:
    def __init__(
        self, uow_factory: UnitOfWorkFactory, tokens: PageTokens, hosted: HostedDomains, blobs: BlobStore, clock: Clock
    ) -> None:
        self._clock = clock
        self._uow = uow_factory
        self._tokens = tokens
        self._hosted = hosted
        self._blobs = blobs

    def _target_pod(self, uow: UnitOfWork, principal: Principal, pod_id: str | None) -> str:
        if pod_id is not None:
            return visible_pod(uow, principal, pod_id).pod_id
        if principal.scope_type is ScopeType.INBOX:
            raise Forbidden("An inbox key cannot create inboxes")
        if principal.pod_id is not None:
            return principal.pod_id
        return uow.pods.default_pod(principal.organization_id).pod_id

    def _by_client_id(self, uow: UnitOfWork, principal: Principal, client_id: str) -> Inbox | None:
        existing = uow.inboxes.get_by_client_id(principal.organization_id, client_id)
        if existing is None:
            return None
        if not principal.sees_inbox(existing.pod_id, existing.inbox_id):
            raise Conflict("client_id is already used by another inbox", code="already_exists")
        return existing

    def create(self, principal: Principal, request: NewInbox, pod_id: str | None = None) -> Inbox:
        require(principal, "inbox_create")
        domain = normalize_domain(request.domain) if request.domain is not None else self._hosted.default_domain
        username = normalize_username(request.username) if request.username is not None else None
        display_name = check_display_name(request.display_name) if request.display_name is not None else None
        client_id = check_client_id(request.client_id) if request.client_id is not None else None
        metadata = validate_new_metadata(request.metadata) if request.metadata is not None else None
        attempts = 1 if username is not None else GENERATED_USERNAME_ATTEMPTS
        for _ in range(attempts):
            with self._uow(write=True) as uow:
                target_pod = self._target_pod(uow, principal, pod_id)
                if client_id is not None and (existing := self._by_client_id(uow, principal, client_id)):
                    return existing
                self._hosted.check_new_inbox(uow, principal.organization_id, target_pod, domain)
                local = username or generate_username()
                address = f"{local}@{domain}"
                if uow.inboxes.get(address) is not None:
                    if username is not None:
                        raise Conflict(f"Inbox {address} already exists", code="already_exists")
                    continue
                now = self._clock.now()
                inbox = Inbox(
                    inbox_id=address,
                    organization_id=principal.organization_id,
                    pod_id=target_pod,
                    username=local,
                    domain=domain,
                    display_name=display_name,
                    client_id=client_id,
                    status=request.status,
                    metadata=metadata,
                    created_at=now,
                    updated_at=now,
                )
                try:
                    uow.inboxes.add(inbox)
                    usage.inbox_created(uow, inbox)
                    uow.commit()
                except Conflict:
                    pass  # a concurrent create took the address or the client_id
                else:
                    return inbox
            if client_id is not None:
                with self._uow() as uow:
                    if existing := self._by_client_id(uow, principal, client_id):
                        return existing
            if username is not None:
                raise Conflict(f"Inbox {username}@{domain} already exists", code="already_exists")
        raise Conflict("Could not find a free address, retry", code="conflict")

    def ensure_operator_inbox(self, organization_id: str, address: str, display_name: str) -> bool:
        """Create the operator's inbox at ``address`` in the default pod when it is missing (server setup, no key).

        True when the inbox exists afterwards; False when ``address`` is not on a domain an inbox may be created on.
        """
        local, _, domain = address.rpartition("@")
        with self._uow() as uow:
            if uow.inboxes.get(address) is not None:
                return True
        operator = Principal("server", organization_id, None, None, None, None, granted_permissions(None))
        try:
            self.create(operator, NewInbox(username=local, domain=domain, display_name=display_name))
        except Conflict:
            pass  # created meanwhile by another process starting
        except (InvalidInput, Unprocessable):
            return False
        return True

    def get(self, principal: Principal, inbox_id: str, pod_id: str | None = None) -> Inbox:
        require(principal, "inbox_read")
        with self._uow(snapshot=False) as uow:  # reads by id, which need no common snapshot
            return visible_inbox(uow, principal, inbox_id, pod_id)

    def _scope(self, uow: UnitOfWork, principal: Principal, pod_id: str | None) -> InboxScope:
        if pod_id is not None:
            visible_pod(uow, principal, pod_id)
        return InboxScope(principal.organization_id, pod_id or principal.pod_id, principal.inbox_id)

    def list(self, principal: Principal, params: ListParams, pod_id: str | None = None) -> Page[Inbox]:
        require(principal, "inbox_read")
        with self._uow() as uow:
            scope = self._scope(uow, principal, pod_id)
            return paginate(
                self._tokens,
                "inboxes.list",
                f"{scope.pod_id}|{scope.inbox_id}|{params.ascending}",
                params,
                lambda page: uow.inboxes.list_page(scope, page),
                lambda inbox: (inbox.created_at.isoformat(), inbox.inbox_id),
            )

    def search(self, principal: Principal, q: str, params: ListParams, pod_id: str | None = None) -> Page[Inbox]:
        """Word-prefix match on address and display name; the exact address first, then address prefixes."""
        require(principal, "inbox_read")
        query = q.strip().lower()
        if len(q.strip()) < MIN_QUERY_CHARS or len(q) > MAX_QUERY_CHARS:
            raise InvalidInput(f"q must be {MIN_QUERY_CHARS}-{MAX_QUERY_CHARS} characters", field="q")
        terms = query.split()
        with self._uow() as uow:
            scope = self._scope(uow, principal, pod_id)
            page = paginate(
                self._tokens,
                "inboxes.search",
                f"{scope.pod_id}|{scope.inbox_id}|{query}",
                ListParams(params.limit, params.page_token, ascending=False),
                lambda page: uow.inboxes.search_page(scope, terms, page),
                lambda hit: hit.position,
            )
        return Page([hit.inbox for hit in page.items], page.limit, page.next_page_token)

    def update(self, principal: Principal, inbox_id: str, changes: InboxChanges, pod_id: str | None = None) -> Inbox:
        require(principal, "inbox_update")
        if not (changes.display_name_given or changes.metadata_given or changes.status is not None):
            raise InvalidInput("An update must include display_name, metadata or status", field="")
        with self._uow(write=True) as uow:
            inbox = visible_inbox(uow, principal, inbox_id, pod_id)
            if changes.display_name_given:
                name = changes.display_name
                inbox.display_name = check_display_name(name) if name is not None else None
            if changes.status is not None:
                inbox.status = changes.status
            if changes.metadata_given:
                patch = changes.metadata
                inbox.metadata = merge_metadata(inbox.metadata, patch) if patch is not None else None
            inbox.updated_at = self._clock.now()
            uow.inboxes.update(inbox)
            uow.commit()
            return inbox

    def delete(self, principal: Principal, inbox_id: str, pod_id: str | None = None) -> None:
        require(principal, "inbox_delete")
        with self._uow(write=True) as uow:
            inbox = visible_inbox(uow, principal, inbox_id, pod_id)
            usage.inbox_deleted(uow, inbox, self._clock.now())
            owners = uow.inboxes.blob_owners(inbox.inbox_id)
            uow.inboxes.delete(inbox.inbox_id)
            uow.commit()
        # Only the deleted rows' blobs: an inbox re-created at the same address meanwhile keeps the blobs of its mail.
        for owner in owners:
            self._blobs.delete_prefix(blob_prefix(inbox.inbox_id, owner))
