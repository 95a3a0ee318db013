"""``/console/events``: new mail and delivery results pushed to console pages as server-sent events, from the same
event hub and subscription rules as the websocket channel, authenticated by the session cookie."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from postroom.console.session import SessionSeal
from postroom.domain.access import Principal
from postroom.errors import Unauthorized
from postroom.loopback import Authenticate, EventFeed, event_feed
from postroom.services.ports import EventStream

LIVE_EVENT_TYPES = ["message.received", "message.sent", "message.delivered", "message.bounced", "message.rejected"]
KEEPALIVE_SECONDS = 15.0
RECHECK_SECONDS = 60.0


def summary(event: dict[str, Any], principal: Principal) -> dict[str, Any]:
    """What a page needs to react: ids always, sender and subject only for a key that may read messages."""
    message: dict[str, Any] = event.get("message") or next(
        (value for key, value in event.items() if key in ("send", "delivery", "bounce", "reject")), {}
    )
    thread = event.get("thread") or {}
    out: dict[str, Any] = {
        "event_type": event.get("event_type"),
        "inbox_id": message.get("inbox_id"),
        "thread_id": message.get("thread_id") or thread.get("thread_id"),
        "message_id": message.get("message_id"),
    }
    if principal.may("message_read"):
        out |= {"from": message.get("from"), "subject": message.get("subject"), "recipients": message.get("recipients")}
    return out


def _frame(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


class LiveEvents:
    def __init__(self, seal: SessionSeal, authenticate: Authenticate, stream: EventStream) -> None:
        self._seal = seal
        self._authenticate = authenticate
        self._stream = stream

    async def __call__(self, request: Request) -> Response:
        session = self._seal.from_request(request)
        if session is None:
            return Response("sign in first", status_code=401)
        authorization = f"Bearer {session.api_key}"
        try:
            principal = await anyio.to_thread.run_sync(self._authenticate, authorization)
        except Unauthorized:
            return Response("the API key of this session is no longer valid", status_code=401)
        headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        return StreamingResponse(
            self._frames(principal, authorization), media_type="text/event-stream", headers=headers
        )

    async def _frames(self, principal: Principal, authorization: str) -> AsyncIterator[str]:
        async with event_feed(self._stream, principal, LIVE_EVENT_TYPES, []) as feed:
            yield _frame("ready", {})
            waited = 0.0
            while True:
                event = await _next(feed, KEEPALIVE_SECONDS)
                if event is None:
                    waited += KEEPALIVE_SECONDS
                    yield ": keepalive\n\n"
                elif event.get("type") == "dropped":
                    yield _frame("dropped", {})
                    return
                else:
                    yield _frame("mail", summary(event, principal))
                if waited >= RECHECK_SECONDS:
                    waited = 0.0
                    try:
                        await anyio.to_thread.run_sync(self._authenticate, authorization)
                    except Unauthorized:
                        yield _frame("signed-out", {})
                        return


async def _next(feed: EventFeed, timeout: float) -> dict[str, Any] | None:
    try:
        event = await asyncio.wait_for(feed.next(), timeout)
    except TimeoutError:
        return None
    return event if event is not None else {"type": "dropped"}
