"""Allow/block lists (spec §3.12): the 12 endpoints at organization, pod and inbox scope, and list evaluation.

Evaluation is shared by sending (``send`` lists, 403 ``message_rejected``) and receiving (``receive`` and ``reply``
lists, label ``blocked``). Hard bounces are the organization's read-only send-block entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from postroom.domain.access import Principal
from postroom.domain.inbox import Inbox
from postroom.domain.lists import (
    MAX_REASON_CHARS,
    Direction,
    ListDecision,
    ListEntry,
    check_direction,
    check_list_type,
    decide,
    match_keys,
    normalize_entry,
)
from postroom.domain.pagination import PageTokens
from postroom.domain.text import storable
from postroom.errors import Forbidden, InvalidInput, NotFound
from postroom.services.access.authentication import require
from postroom.services.access.scopes import visible_inbox, visible_pod
from postroom.services.paging import ListParams, Page, paginate
from postroom.services.ports import Clock, UnitOfWork, UnitOfWorkFactory


@dataclass(frozen=True)
class ListRoute:
    """The route a list request came through: organization (no ids), a pod, or an inbox."""

    pod_id: str | None = None
    inbox_id: str | None = None


@dataclass(frozen=True)
class _Scope:
    organization_id: str
    pod_id: str | None
    inbox_id: str | None

    @property
    def scope_id(self) -> str:
        return self.inbox_id or self.pod_id or self.organization_id


def _scope(uow: UnitOfWork, principal: Principal, route: ListRoute) -> _Scope:
    """The lists a route addresses; the organization route of a pod or inbox key means that key's own lists."""
    if route.inbox_id is not None:
        inbox = visible_inbox(uow, principal, route.inbox_id)
        return _Scope(principal.organization_id, inbox.pod_id, inbox.inbox_id)
    if route.pod_id is not None:
        return _Scope(principal.organization_id, visible_pod(uow, principal, route.pod_id).pod_id, None)
    if principal.inbox_id is not None:
        inbox = visible_inbox(uow, principal, principal.inbox_id)
        return _Scope(principal.organization_id, inbox.pod_id, inbox.inbox_id)
    return _Scope(principal.organization_id, principal.pod_id, None)


def _lookup_entry(raw: str) -> str:
    """The stored spelling of an entry named in a path; anything unparseable simply is not there."""
    try:
        return normalize_entry(raw)[0]
    except InvalidInput as error:
        raise NotFound("List entry not found") from error


def evaluate(uow: UnitOfWork, inbox: Inbox, direction: Direction, address: str) -> ListDecision:
    """The lists' decision for ``address`` as seen from ``inbox`` (its own, its pod's, its organization's)."""
    scope_ids = [inbox.inbox_id, inbox.pod_id, inbox.organization_id]
    matches = uow.list_entries.matching(scope_ids, direction, match_keys(address))
    allow_scopes = uow.list_entries.allow_scopes(scope_ids, direction)
    return decide(address.lower(), direction, scope_ids, matches, allow_scopes)


def add_bounce(uow: UnitOfWork, organization_id: str, address: str, reason: str, now: datetime) -> None:
    """A hard bounce: the address becomes a read-only entry of the organization's send block list."""
    try:
        entry, entry_type = normalize_entry(address)
    except InvalidInput:
        return  # an address we could send to but not list; the bounce itself is still recorded
    uow.list_entries.add_if_absent(
        ListEntry(
            organization_id=organization_id,
            pod_id=None,
            inbox_id=None,
            direction="send",
            list_type="block",
            entry=entry,
            entry_type=entry_type,
            reason=f"bounced: {reason}"[:MAX_REASON_CHARS],
            read_only=True,
            created_at=now,
        )
    )


class ListService:
    def __init__(self, uow_factory: UnitOfWorkFactory, tokens: PageTokens, clock: Clock) -> None:
        self._uow = uow_factory
        self._tokens = tokens
        self._clock = clock

    def create(
        self, principal: Principal, route: ListRoute, direction: str, list_type: str, entry: str, reason: str | None
    ) -> ListEntry:
        require(principal, "list_entry_create")
        checked_direction, checked_type = check_direction(direction), check_list_type(list_type)
        value, entry_type = normalize_entry(entry)
        if reason is not None and (len(reason) > MAX_REASON_CHARS or not storable(reason)):
            raise InvalidInput(f"reason must be at most {MAX_REASON_CHARS} characters of text", field="reason")
        with self._uow(write=True) as uow:
            scope = _scope(uow, principal, route)
            new = ListEntry(
                organization_id=scope.organization_id,
                pod_id=scope.pod_id,
                inbox_id=scope.inbox_id,
                direction=checked_direction,
                list_type=checked_type,
                entry=value,
                entry_type=entry_type,
                reason=reason,
                read_only=False,
                created_at=self._clock.now(),
            )
            existing = uow.list_entries.get(scope.scope_id, checked_direction, checked_type, value)
            if existing is not None:
                return existing  # adding an entry twice leaves the list as it was
            uow.list_entries.add(new)
            uow.commit()
        return new

    def get(self, principal: Principal, route: ListRoute, direction: str, list_type: str, entry: str) -> ListEntry:
        require(principal, "list_entry_read")
        checked_direction, checked_type = check_direction(direction), check_list_type(list_type)
        with self._uow() as uow:
            scope = _scope(uow, principal, route)
            found = uow.list_entries.get(scope.scope_id, checked_direction, checked_type, _lookup_entry(entry))
        if found is None:
            raise NotFound("List entry not found")
        return found

    def delete(self, principal: Principal, route: ListRoute, direction: str, list_type: str, entry: str) -> None:
        require(principal, "list_entry_delete")
        checked_direction, checked_type = check_direction(direction), check_list_type(list_type)
        with self._uow(write=True) as uow:
            scope = _scope(uow, principal, route)
            value = _lookup_entry(entry)
            found = uow.list_entries.get(scope.scope_id, checked_direction, checked_type, value)
            if found is None:
                raise NotFound("List entry not found")
            if found.read_only:
                raise Forbidden(
                    f"{value} was added by the server (a hard bounce) and cannot be deleted",
                    code="forbidden",
                    fix="Read-only entries record addresses that bounced; send to another address instead.",
                )
            uow.list_entries.delete(scope.scope_id, checked_direction, checked_type, value)
            uow.commit()

    def list_entries(
        self, principal: Principal, route: ListRoute, direction: str, list_type: str, params: ListParams
    ) -> Page[ListEntry]:
        require(principal, "list_entry_read")
        checked_direction, checked_type = check_direction(direction), check_list_type(list_type)
        with self._uow() as uow:
            scope = _scope(uow, principal, route)
            return paginate(
                self._tokens,
                f"lists:{scope.scope_id}",
                f"{checked_direction}/{checked_type}",
                ListParams(limit=params.limit, page_token=params.page_token, ascending=True),
                lambda request: uow.list_entries.list_page(scope.scope_id, checked_direction, checked_type, request),
                lambda item: (item.entry,),
            )
