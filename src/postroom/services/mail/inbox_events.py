"""The inbox event log (spec §3.14): every label added to or removed from a message, newest first, paginated."""

from __future__ import annotations

from postroom.domain.access import Principal
from postroom.domain.events import InboxEvent
from postroom.domain.pagination import PageTokens
from postroom.services.access.authentication import require
from postroom.services.access.scopes import visible_inbox
from postroom.services.paging import ListParams, Page, paginate
from postroom.services.ports import UnitOfWorkFactory


class InboxEventService:
    def __init__(self, uow_factory: UnitOfWorkFactory, tokens: PageTokens) -> None:
        self._uow = uow_factory
        self._tokens = tokens

    def list(self, principal: Principal, inbox_id: str, params: ListParams) -> Page[InboxEvent]:
        require(principal, "message_read")
        with self._uow() as uow:
            inbox = visible_inbox(uow, principal, inbox_id)
            return paginate(
                self._tokens,
                "inbox_events.list",
                f"{inbox.inbox_id}|{params.ascending}",
                params,
                lambda page: uow.inbox_events.list_page(inbox.inbox_id, page),
                lambda event: (event.created_at.isoformat(), event.event_id),
            )
