"""The inbox event log route (spec §3.14): label changes of an inbox's messages, paginated."""

from __future__ import annotations

from fastapi import APIRouter

from postroom.api.deps import AppServices, Caller, InboxId, Listing
from postroom.api.schemas.webhooks import InboxEventOut, ListInboxEventsOut

router = APIRouter(tags=["inbox-events"])


def list_inbox_events(
    caller: Caller, container: AppServices, inbox_id: InboxId, listing: Listing
) -> ListInboxEventsOut:
    page = container.inbox_events.list(caller, inbox_id, listing)
    events = [InboxEventOut.of(event) for event in page.items]
    return ListInboxEventsOut(count=len(events), limit=page.limit, next_page_token=page.next_page_token, events=events)


router.add_api_route(
    "/v0/inboxes/{inbox_id}/events", list_inbox_events, methods=["GET"], response_model_exclude_none=True
)
