"""The §4.1 event JSON, identical for webhooks and websocket frames, rendered once per event."""

from __future__ import annotations

import json
from collections.abc import Mapping

from postroom.domain.custom_domains import DomainView
from postroom.domain.events import (
    MESSAGE_BOUNCED,
    MESSAGE_DELIVERED,
    MESSAGE_RECEIVED,
    MESSAGE_RECEIVED_BLOCKED,
    MESSAGE_RECEIVED_SPAM,
    MESSAGE_RECEIVED_UNAUTHENTICATED,
    MESSAGE_REJECTED,
    MESSAGE_SENT,
    OutboxEvent,
)
from postroom.domain.message import Message, Thread
from postroom.wire.domains import DomainOut
from postroom.wire.mail import MessageOut, ThreadItemOut

MAX_PAYLOAD_BYTES = 1024 * 1024  # over this, the message's text and html are left out (spec §1.10)
RECEIVED_TYPES = frozenset(
    {MESSAGE_RECEIVED, MESSAGE_RECEIVED_SPAM, MESSAGE_RECEIVED_BLOCKED, MESSAGE_RECEIVED_UNAUTHENTICATED}
)
_PAYLOAD_KEY = {
    MESSAGE_SENT: "send",
    MESSAGE_DELIVERED: "delivery",
    MESSAGE_BOUNCED: "bounce",
    MESSAGE_REJECTED: "reject",
}


def _iso(event: OutboxEvent) -> str:
    return event.created_at.isoformat().replace("+00:00", "Z")


def _dumps(value: Mapping[str, object]) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _envelope(event: OutboxEvent) -> dict[str, object]:
    return {"type": "event", "event_type": event.event_type, "event_id": event.event_id}


def received(event: OutboxEvent, message: Message, thread: Thread) -> str:
    wire_message = MessageOut.full(message).model_dump(mode="json", by_alias=True, exclude_none=True)
    wire_thread = ThreadItemOut.of(thread).model_dump(mode="json", by_alias=True, exclude_none=True)
    body = _dumps(_envelope(event) | {"message": wire_message, "thread": wire_thread})
    if len(body.encode()) > MAX_PAYLOAD_BYTES:
        wire_message.pop("text", None)
        wire_message.pop("html", None)
        body = _dumps(_envelope(event) | {"message": wire_message, "thread": wire_thread})
    return body


def outcome(event: OutboxEvent, message: Message) -> str:
    """``message.sent`` / ``delivered`` / ``bounced`` / ``rejected``: the sent message's ids plus the event data."""
    details: dict[str, object] = {
        "inbox_id": message.inbox_id,
        "thread_id": message.thread_id,
        "message_id": message.message_id,
        "timestamp": _iso(event),
    }
    data = event.data
    if event.event_type in (MESSAGE_SENT, MESSAGE_DELIVERED):
        details["recipients"] = list(data.get("recipients", []))  # type: ignore[call-overload]
    elif event.event_type == MESSAGE_BOUNCED:
        details["type"] = data.get("type", "Permanent")
        details["sub_type"] = data.get("sub_type", "General")
        details["recipients"] = list(data.get("recipients", []))  # type: ignore[call-overload]
    elif event.event_type == MESSAGE_REJECTED:
        details["reason"] = data.get("reason", "")
    return _dumps(_envelope(event) | {_PAYLOAD_KEY[event.event_type]: details})


def domain_verified(event: OutboxEvent, view: DomainView) -> str:
    """``domain.verified``: the Domain as it is when the event is dispatched."""
    domain = DomainOut.of_view(view).model_dump(mode="json", exclude_none=True)
    return _dumps(_envelope(event) | {"domain": domain})


def render(event: OutboxEvent, message: Message, thread: Thread) -> str | None:
    """The event's JSON, or None for an event type this server does not emit."""
    if event.event_type in RECEIVED_TYPES:
        return received(event, message, thread)
    if event.event_type in _PAYLOAD_KEY:
        return outcome(event, message)
    return None
