"""Sending routes of one inbox (spec §3.5 write side): send, reply, reply-all and forward."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from postroom.api.deps import AppServices, Caller, InboxId
from postroom.api.rawpath import segment
from postroom.api.schemas.send import ForwardBody, ReplyAllBody, ReplyBody, SendMessageBody, SendMessageOut
from postroom.services.sending.send import SentRef

router = APIRouter(tags=["messages"])
M = "/v0/inboxes/{inbox_id}/messages"
ONE = "/v0/inboxes/{inbox_id}/messages/{message_id}"


async def idempotency_key(request: Request) -> str | None:
    """The Idempotency-Key header as sent (an empty one is kept, to be refused as invalid)."""
    return request.headers.get("idempotency-key")


IdempotencyKey = Annotated[str | None, Depends(idempotency_key)]


def _out(sent: SentRef) -> SendMessageOut:
    return SendMessageOut(message_id=sent.message_id, thread_id=sent.thread_id)


def send_message(
    caller: Caller, container: AppServices, inbox_id: InboxId, body: SendMessageBody, idempotency_key: IdempotencyKey
) -> SendMessageOut:
    return _out(container.send.send(caller, inbox_id, body.to_request(), idempotency_key))


def reply(
    request: Request,
    caller: Caller,
    container: AppServices,
    inbox_id: InboxId,
    body: ReplyBody,
    idempotency_key: IdempotencyKey,
) -> SendMessageOut:
    message_id = segment(request.path_params["message_id"])
    sent = container.send.reply(
        caller, inbox_id, message_id, body.to_request(), idempotency_key, reply_all=bool(body.reply_all)
    )
    return _out(sent)


def reply_all(
    request: Request,
    caller: Caller,
    container: AppServices,
    inbox_id: InboxId,
    body: ReplyAllBody,
    idempotency_key: IdempotencyKey,
) -> SendMessageOut:
    message_id = segment(request.path_params["message_id"])
    sent = container.send.reply(caller, inbox_id, message_id, body.to_request(), idempotency_key, reply_all=True)
    return _out(sent)


def forward(
    request: Request,
    caller: Caller,
    container: AppServices,
    inbox_id: InboxId,
    body: ForwardBody,
    idempotency_key: IdempotencyKey,
) -> SendMessageOut:
    message_id = segment(request.path_params["message_id"])
    return _out(container.send.forward(caller, inbox_id, message_id, body.to_request(), idempotency_key))


router.add_api_route(f"{M}/send", send_message, methods=["POST"])
router.add_api_route(f"{ONE}/reply", reply, methods=["POST"])
router.add_api_route(f"{ONE}/reply-all", reply_all, methods=["POST"])
router.add_api_route(f"{ONE}/forward", forward, methods=["POST"])
