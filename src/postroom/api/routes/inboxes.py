"""Inbox routes at organization (``/v0/inboxes``) and pod (``/v0/pods/{pod_id}/inboxes``) scope (spec §3.3)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from postroom.api.deps import AppServices, Caller, InboxId, Listing, RoutePodId
from postroom.api.point_reads import point_read
from postroom.api.responses import model_response
from postroom.api.schemas.access import CreateInboxBody, InboxOut, ListInboxesOut, UpdateInboxBody
from postroom.domain.inbox import InboxStatus
from postroom.errors import InvalidInput
from postroom.services.access.inboxes import InboxChanges, NewInbox
from postroom.services.paging import Page

router = APIRouter(tags=["inboxes"])
ORG = "/v0/inboxes"
POD = "/v0/pods/{pod_id}/inboxes"


def _page(page: Page[object]) -> ListInboxesOut:
    inboxes = [InboxOut.of(inbox) for inbox in page.items]  # type: ignore[arg-type]
    return ListInboxesOut(count=len(inboxes), limit=page.limit, next_page_token=page.next_page_token, inboxes=inboxes)


def list_inboxes(caller: Caller, container: AppServices, listing: Listing, pod_id: RoutePodId) -> ListInboxesOut:
    return _page(container.inboxes.list(caller, listing, pod_id))  # type: ignore[arg-type]


def search_inboxes(
    caller: Caller, container: AppServices, listing: Listing, pod_id: RoutePodId, q: Annotated[str, Query()]
) -> ListInboxesOut:
    return _page(container.inboxes.search(caller, q, listing, pod_id))  # type: ignore[arg-type]


async def get_inbox(
    request: Request, caller: Caller, container: AppServices, inbox_id: InboxId, pod_id: RoutePodId
) -> Response:
    return await point_read(
        request, lambda: model_response(InboxOut.of(container.inboxes.get(caller, inbox_id, pod_id)))
    )


def create_inbox(
    caller: Caller, container: AppServices, pod_id: RoutePodId, body: CreateInboxBody | None = None
) -> InboxOut:
    body = body or CreateInboxBody()
    request = NewInbox(
        username=body.username,
        domain=body.domain,
        display_name=body.display_name,
        client_id=body.client_id,
        status=InboxStatus(body.status or "active"),
        metadata=body.metadata,
    )
    return InboxOut.of(container.inboxes.create(caller, request, pod_id))


def update_inbox(
    caller: Caller, container: AppServices, inbox_id: InboxId, pod_id: RoutePodId, body: UpdateInboxBody
) -> InboxOut:
    given = body.model_fields_set
    if "status" in given and body.status is None:
        raise InvalidInput("status must be active or paused", field="status")
    changes = InboxChanges(
        display_name=body.display_name,
        display_name_given="display_name" in given,
        status=InboxStatus(body.status) if body.status is not None else None,
        metadata=body.metadata,
        metadata_given="metadata" in given,
    )
    return InboxOut.of(container.inboxes.update(caller, inbox_id, changes, pod_id))


def delete_inbox(caller: Caller, container: AppServices, inbox_id: InboxId, pod_id: RoutePodId) -> Response:
    container.inboxes.delete(caller, inbox_id, pod_id)
    return Response(status_code=204)


for prefix in (ORG, POD):
    common = {"response_model_exclude_none": True}
    router.add_api_route(prefix, list_inboxes, methods=["GET"], **common)  # type: ignore[arg-type]
    router.add_api_route(f"{prefix}/search", search_inboxes, methods=["GET"], **common)  # type: ignore[arg-type]
    router.add_api_route(prefix, create_inbox, methods=["POST"], **common)  # type: ignore[arg-type]
    router.add_api_route(f"{prefix}/{{inbox_id}}", get_inbox, methods=["GET"], response_model=InboxOut)
    router.add_api_route(f"{prefix}/{{inbox_id}}", update_inbox, methods=["PATCH"], **common)  # type: ignore[arg-type]
    router.add_api_route(f"{prefix}/{{inbox_id}}", delete_inbox, methods=["DELETE"], status_code=204)
