"""The websocket event channel at exactly ``/v0`` (spec §4.3): auth on the handshake, subscribe, event frames.

Frames in: ``subscribe`` (may be re-sent) and ``ping``. Frames out: ``subscribed``, ``event``, ``error``, ``pong``.
A client that falls behind its bounded queue is closed with code 1008 and the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from postroom.api.errors import error_body, error_name
from postroom.domain.access import Principal
from postroom.domain.subscriptions import for_principal
from postroom.errors import PostroomError, Unauthorized
from postroom.observability.collectors import WEBSOCKET_CLIENTS
from postroom.services.container import Services
from postroom.services.ports import EventChannel, EventStream

router = APIRouter()
POLICY_VIOLATION = 1008
MAX_FRAME_CHARS = 64 * 1024
BINARY = "frames must be JSON text, not binary"


def _error_frame(name: str, message: str) -> str:
    return json.dumps({"type": "error", "name": name, "message": message})


def _string_list(frame: dict[str, Any], key: str) -> list[str]:
    value = frame.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"{key} must be an array of strings")
    return value


def _subscribe(principal: Principal, channel: EventChannel, frame: dict[str, Any]) -> str:
    event_types = _string_list(frame, "event_types")
    pod_ids, inbox_ids = _string_list(frame, "pod_ids"), _string_list(frame, "inbox_ids")
    channel.subscribe(for_principal(principal, event_types, pod_ids, inbox_ids))
    ack: dict[str, object] = {"type": "subscribed"}
    for key, values in (("event_types", event_types), ("inbox_ids", inbox_ids), ("pod_ids", pod_ids)):
        if key in frame and frame[key] is not None:
            ack[key] = values
    return json.dumps(ack)


def _answer(principal: Principal, channel: EventChannel, text: str) -> str:
    """The reply to one client frame."""
    if len(text) > MAX_FRAME_CHARS:
        return _error_frame("ValidationError", "frame too large")
    try:
        frame = json.loads(text)
    except ValueError:
        return _error_frame("ValidationError", "frames must be JSON objects")
    if not isinstance(frame, dict):
        return _error_frame("ValidationError", "frames must be JSON objects")
    kind = frame.get("type")
    if kind == "ping":
        return json.dumps({"type": "pong"})
    if kind != "subscribe":
        return _error_frame("ValidationError", f"unknown frame type {kind!r}; send subscribe or ping")
    try:
        return _subscribe(principal, channel, frame)
    except ValueError as error:
        return _error_frame("ValidationError", str(error))
    except PostroomError as error:
        return _error_frame(error_name(error), error.message)


async def event_channel(websocket: WebSocket) -> None:
    services: Services = websocket.app.state.services
    stream: EventStream = websocket.app.state.event_stream
    authorization = websocket.headers.get("authorization")
    query_key = websocket.query_params.get("api_key")
    if not authorization and query_key:
        authorization = f"Bearer {query_key}"
    try:
        principal = await run_in_threadpool(services.access.authenticate, authorization)
    except Unauthorized as error:
        body = error_body("UnauthorizedError", error.code, error.message, error.fix)
        await websocket.send_denial_response(JSONResponse(body, status_code=401))
        return
    await websocket.accept()
    channel = stream.open()
    WEBSOCKET_CLIENTS.inc()
    sending = asyncio.Lock()

    async def send(text: str) -> None:
        async with sending:
            await websocket.send_text(text)

    async def forward_events() -> None:
        while True:
            frame = await channel.next_frame()
            if frame is None:
                await websocket.close(POLICY_VIOLATION, reason=channel.drop_reason or "dropped")
                return
            await send(frame)

    async def watch_key() -> None:
        """A key deleted or expired while connected stops the stream within one re-check interval."""
        while True:
            await asyncio.sleep(recheck_seconds)
            try:
                await run_in_threadpool(services.access.authenticate, authorization)
            except Unauthorized:
                async with sending:
                    await websocket.close(POLICY_VIOLATION, reason="API key is no longer valid")
                return

    recheck_seconds: float = websocket.app.state.websocket_key_recheck_seconds
    writer = asyncio.create_task(forward_events())
    watcher = asyncio.create_task(watch_key())
    try:
        while not writer.done() and not watcher.done():
            receiving = asyncio.ensure_future(websocket.receive())
            done, _ = await asyncio.wait({receiving, writer, watcher}, return_when=asyncio.FIRST_COMPLETED)
            if receiving not in done:
                receiving.cancel()
                break
            message = receiving.result()
            if message["type"] == "websocket.disconnect":
                break
            text = message.get("text")
            reply = _answer(principal, channel, text) if text is not None else _error_frame("ValidationError", BINARY)
            await send(reply)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        channel.close()
        WEBSOCKET_CLIENTS.dec()
        for task in (writer, watcher):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
                await task


router.add_api_websocket_route("/v0", event_channel)
