"""Message routes of one inbox (spec §3.5 read side): list, search, get, labels, batches, delete, raw, attachments."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from postroom.api.deps import AppServices, Caller, InboxId, Listing
from postroom.api.downloads import attachment_response, download_url
from postroom.api.mail_params import MessageFilter
from postroom.api.point_reads import point_read
from postroom.api.rawpath import segment
from postroom.api.responses import model_response
from postroom.api.schemas.mail import (
    AttachmentResponseOut,
    BatchGetBody,
    BatchMessagesOut,
    BatchUpdateBody,
    BatchUpdateOut,
    LabelsOut,
    ListMessagesOut,
    MessageLabelsBody,
    RawMessageOut,
    SearchMessageItemOut,
    SearchMessagesOut,
    as_list,
)
from postroom.api.search_params import Search
from postroom.domain.labels import LabelChange
from postroom.services.mail.mailbox import BATCH_GET_LIMIT, BATCH_UPDATE_LIMIT
from postroom.wire.mail import MessageItemOut, MessageOut

router = APIRouter(tags=["messages"])
M = "/v0/inboxes/{inbox_id}/messages"
ONE = "/v0/inboxes/{inbox_id}/messages/{message_id}"


def _message_id(request: Request) -> str:
    return segment(request.path_params["message_id"])


def list_messages(
    caller: Caller, container: AppServices, inbox_id: InboxId, listing: Listing, mail_filter: MessageFilter
) -> ListMessagesOut:
    page = container.mail.list_messages(caller, inbox_id, listing, mail_filter)
    items = [MessageItemOut.of(message) for message in page.items]
    return ListMessagesOut(count=len(items), limit=page.limit, next_page_token=page.next_page_token, messages=items)


def search_messages(
    caller: Caller, container: AppServices, inbox_id: InboxId, listing: Listing, search: Search
) -> SearchMessagesOut:
    """Registered before ``{message_id}`` so that "search" is not taken for a message id."""
    page = container.search.search_messages(caller, inbox_id, search, listing)
    items = [SearchMessageItemOut.hit(result.message, result.highlights) for result in page.items]
    return SearchMessagesOut(count=len(items), limit=page.limit, next_page_token=page.next_page_token, messages=items)


def batch_get(caller: Caller, container: AppServices, inbox_id: InboxId, body: BatchGetBody) -> BatchMessagesOut:
    found = container.mail.batch_get(caller, inbox_id, body.message_ids)
    items = [MessageOut.full(message, bodies=False) for message in found]
    return BatchMessagesOut(limit=BATCH_GET_LIMIT, count=len(items), messages=items)


def batch_update(caller: Caller, container: AppServices, inbox_id: InboxId, body: BatchUpdateBody) -> BatchUpdateOut:
    change = LabelChange(as_list(body.add_labels), as_list(body.remove_labels))
    updated = container.mail.batch_update(caller, inbox_id, body.message_ids, change)
    updates = [LabelsOut(message_id=message.message_id, labels=message.labels) for message in updated]
    return BatchUpdateOut(limit=BATCH_UPDATE_LIMIT, count=len(updates), updates=updates)


def raw_message(request: Request, caller: Caller, container: AppServices, inbox_id: InboxId) -> RawMessageOut:
    message, link = container.mail.raw_link(caller, inbox_id, _message_id(request))
    return RawMessageOut(
        message_id=message.message_id,
        size=message.size,
        download_url=download_url(request, link),
        expires_at=link.expires_at,
    )


def message_attachment(
    request: Request, caller: Caller, container: AppServices, inbox_id: InboxId
) -> AttachmentResponseOut:
    attachment_id = segment(request.path_params["attachment_id"])
    link = container.mail.message_attachment(caller, inbox_id, _message_id(request), attachment_id)
    return attachment_response(request, link)


async def get_message(request: Request, caller: Caller, container: AppServices, inbox_id: InboxId) -> Response:
    message_id = _message_id(request)
    return await point_read(
        request, lambda: model_response(MessageOut.full(container.mail.get_message(caller, inbox_id, message_id)))
    )


def update_message(
    request: Request, caller: Caller, container: AppServices, inbox_id: InboxId, body: MessageLabelsBody
) -> LabelsOut:
    change = LabelChange(as_list(body.add_labels), as_list(body.remove_labels))
    message = container.mail.update_message(caller, inbox_id, _message_id(request), change)
    return LabelsOut(message_id=message.message_id, labels=message.labels)


def delete_message(request: Request, caller: Caller, container: AppServices, inbox_id: InboxId) -> Response:
    container.mail.delete_message(caller, inbox_id, _message_id(request))
    return Response(status_code=204)


router.add_api_route(M, list_messages, methods=["GET"], response_model_exclude_none=True)
router.add_api_route(f"{M}/search", search_messages, methods=["GET"], response_model_exclude_none=True)
router.add_api_route(f"{M}/batch-get", batch_get, methods=["POST"], response_model_exclude_none=True)
router.add_api_route(f"{M}/batch-update", batch_update, methods=["POST"], response_model_exclude_none=True)
router.add_api_route(f"{ONE}/raw", raw_message, methods=["GET"], response_model_exclude_none=True)
router.add_api_route(
    f"{ONE}/attachments/{{attachment_id}}", message_attachment, methods=["GET"], response_model_exclude_none=True
)
router.add_api_route(ONE, get_message, methods=["GET"], response_model=MessageOut)
router.add_api_route(ONE, update_message, methods=["PATCH"], response_model_exclude_none=True)
router.add_api_route(ONE, delete_message, methods=["DELETE"], status_code=204)
