"""Draft routes (spec §3.6): reads at organization, pod and inbox scope; create, update, delete and send per inbox."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from postroom.api.deps import AppServices, Caller, InboxId, IsoDateTime, Listing, list_query, query_instant
from postroom.api.downloads import attachment_response
from postroom.api.rawpath import segment
from postroom.api.routes.send import IdempotencyKey
from postroom.api.routes.threads import Route
from postroom.api.schemas.drafts import (
    CreateDraftBody,
    DraftItemOut,
    DraftOut,
    ListDraftsOut,
    SendDraftBody,
    UpdateDraftBody,
)
from postroom.api.schemas.mail import AttachmentResponseOut, as_list
from postroom.api.schemas.send import SendMessageOut
from postroom.domain.labels import LabelChange, normalize_labels
from postroom.domain.listing import MailFilter

router = APIRouter(tags=["drafts"])
PREFIXES = ("/v0", "/v0/pods/{pod_id}", "/v0/inboxes/{inbox_id}")
INBOX = "/v0/inboxes/{inbox_id}/drafts"


async def draft_filter(
    request: Request,
    before: Annotated[IsoDateTime | None, Query()] = None,
    after: Annotated[IsoDateTime | None, Query()] = None,
) -> MailFilter:
    """Labels (all must be present) and an updated_at window: ``after`` inclusive, ``before`` exclusive."""
    labels = list_query(request, "labels")
    return MailFilter(
        labels=tuple(normalize_labels(labels)) if labels else (),
        before=query_instant(before, "before"),
        after=query_instant(after, "after"),
    )


DraftFilter = Annotated[MailFilter, Depends(draft_filter)]


def _draft_id(request: Request) -> str:
    return segment(request.path_params["draft_id"])


def list_drafts(
    caller: Caller, container: AppServices, route: Route, listing: Listing, mail_filter: DraftFilter
) -> ListDraftsOut:
    page = container.drafts.list_drafts(caller, route, listing, mail_filter)
    items = [DraftItemOut.of(draft) for draft in page.items]
    return ListDraftsOut(count=len(items), limit=page.limit, next_page_token=page.next_page_token, drafts=items)


def get_draft(request: Request, caller: Caller, container: AppServices, route: Route) -> DraftOut:
    return DraftOut.full(container.drafts.get_draft(caller, route, _draft_id(request)))


def draft_attachment(request: Request, caller: Caller, container: AppServices, route: Route) -> AttachmentResponseOut:
    attachment_id = segment(request.path_params["attachment_id"])
    link = container.drafts.attachment(caller, route, _draft_id(request), attachment_id)
    return attachment_response(request, link)


def create_draft(caller: Caller, container: AppServices, inbox_id: InboxId, body: CreateDraftBody) -> DraftOut:
    return DraftOut.full(container.drafts.create(caller, inbox_id, body.to_input()))


def update_draft(
    request: Request, caller: Caller, container: AppServices, inbox_id: InboxId, body: UpdateDraftBody
) -> DraftOut:
    return DraftOut.full(container.drafts.update(caller, inbox_id, _draft_id(request), body.to_change()))


def delete_draft(request: Request, caller: Caller, container: AppServices, inbox_id: InboxId) -> Response:
    container.drafts.delete(caller, inbox_id, _draft_id(request))
    return Response(status_code=204)


def send_draft(
    request: Request,
    caller: Caller,
    container: AppServices,
    inbox_id: InboxId,
    idempotency_key: IdempotencyKey,
    body: SendDraftBody | None = None,
) -> SendMessageOut:
    body = body or SendDraftBody()
    change = LabelChange(as_list(body.add_labels), as_list(body.remove_labels))
    sent = container.drafts.send(caller, inbox_id, _draft_id(request), change, idempotency_key)
    return SendMessageOut(message_id=sent.message_id, thread_id=sent.thread_id)


for prefix in PREFIXES:
    one = f"{prefix}/drafts/{{draft_id}}"
    router.add_api_route(f"{prefix}/drafts", list_drafts, methods=["GET"], response_model_exclude_none=True)
    router.add_api_route(one, get_draft, methods=["GET"], response_model_exclude_none=True)
    router.add_api_route(
        f"{one}/attachments/{{attachment_id}}", draft_attachment, methods=["GET"], response_model_exclude_none=True
    )
router.add_api_route(INBOX, create_draft, methods=["POST"], response_model_exclude_none=True)
router.add_api_route(f"{INBOX}/{{draft_id}}", update_draft, methods=["PATCH"], response_model_exclude_none=True)
router.add_api_route(f"{INBOX}/{{draft_id}}", delete_draft, methods=["DELETE"], status_code=204)
router.add_api_route(f"{INBOX}/{{draft_id}}/send", send_draft, methods=["POST"])
