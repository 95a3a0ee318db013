"""The websocket channel through the official Python SDK (spec §4.3): auth, subscribe, scope and filters."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import websockets
from agentmail import AgentMail, AsyncAgentMail
from agentmail.api_keys import ApiKeyPermissions, CreateApiKeyResponse, CreateBearerApiKeyRequest
from agentmail.core.api_error import ApiError
from agentmail.events import MessageReceivedEvent
from agentmail.inboxes import CreateInboxRequest
from agentmail.websockets import Error, Subscribe, Subscribed

from tests.conformance.helpers import async_client_for, unique
from tests.support.mail import send_mail
from tests.support.server import ServerProcess

TIMEOUT = 30.0


async def recv(socket: Any) -> Any:
    return await asyncio.wait_for(socket.recv(), TIMEOUT)


async def mail(server: ServerProcess, to: str, subject: str = "hello") -> str:
    return await asyncio.to_thread(send_mail, server.smtp_port, to, subject)


def ws_url(server: ServerProcess) -> str:
    return server.base_url.replace("http", "ws", 1) + "/v0"


async def test_python_sdk_receives_mail_sent_over_smtp(server: ServerProcess, async_sdk: AsyncAgentMail) -> None:
    inbox = await async_sdk.inboxes.create(request=CreateInboxRequest(username=unique("ws")))
    async with async_sdk.websockets.connect() as socket:
        await socket.send_subscribe(Subscribe(event_types=["message.received"], inbox_ids=[inbox.inbox_id]))
        ack = await recv(socket)
        assert isinstance(ack, Subscribed)
        assert ack.event_types == ["message.received"]
        assert ack.inbox_ids == [inbox.inbox_id]
        message_id = await mail(server, inbox.inbox_id, "over the wire")
        event = await recv(socket)
        assert isinstance(event, MessageReceivedEvent)
        assert event.type == "event"
        assert event.event_type == "message.received"
        assert event.event_id
        assert event.message.message_id == message_id
        assert event.message.subject == "over the wire"
        assert event.thread.thread_id == event.message.thread_id


async def test_an_inbox_key_gets_only_its_inbox_events(
    server: ServerProcess, sdk: AgentMail, async_sdk: AsyncAgentMail
) -> None:
    mine = sdk.inboxes.create(request=CreateInboxRequest(username=unique("mine")))
    other = sdk.inboxes.create(request=CreateInboxRequest(username=unique("other")))
    created = sdk.inboxes.api_keys.create(mine.inbox_id, request=CreateBearerApiKeyRequest(name="ws inbox key"))
    assert isinstance(created, CreateApiKeyResponse)
    scoped = async_client_for(server, created.api_key)
    async with scoped.websockets.connect() as socket:
        await socket.send_subscribe(Subscribe(inbox_ids=[other.inbox_id, mine.inbox_id]))  # naming others is no use
        assert isinstance(await recv(socket), Subscribed)
        await mail(server, other.inbox_id, "not for you")
        expected = await mail(server, mine.inbox_id, "for you")
        event = await recv(socket)
        assert isinstance(event, MessageReceivedEvent)
        assert event.message.message_id == expected


async def test_filters_apply_and_a_subscribe_can_be_replaced(server: ServerProcess, async_sdk: AsyncAgentMail) -> None:
    inbox = await async_sdk.inboxes.create(request=CreateInboxRequest(username=unique("filter")))
    async with async_sdk.websockets.connect() as filtered, async_sdk.websockets.connect() as watcher:
        await filtered.send_subscribe(Subscribe(event_types=["message.sent"], inbox_ids=[inbox.inbox_id]))
        await watcher.send_subscribe(Subscribe(inbox_ids=[inbox.inbox_id]))
        assert isinstance(await recv(filtered), Subscribed)
        assert isinstance(await recv(watcher), Subscribed)
        first = await mail(server, inbox.inbox_id, "first")
        assert (await recv(watcher)).message.message_id == first  # delivered, but not to the message.sent filter
        await filtered.send_subscribe(Subscribe(event_types=["message.received"], inbox_ids=[inbox.inbox_id]))
        assert isinstance(await recv(filtered), Subscribed)
        second = await mail(server, inbox.inbox_id, "second")
        event = await recv(filtered)
        assert isinstance(event, MessageReceivedEvent)
        assert event.message.message_id == second


async def test_a_bad_key_is_refused_on_the_handshake(server: ServerProcess) -> None:
    stranger = async_client_for(server, "pr_" + "x" * 40)
    with pytest.raises(ApiError) as caught:
        async with stranger.websockets.connect():
            pass
    assert caught.value.status_code == 401
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with websockets.connect(ws_url(server)):
            pass
    assert refused.value.response.status_code == 401
    assert json.loads(refused.value.response.body or b"{}")["code"] == "missing_authorization"


async def test_api_key_query_parameter_ping_and_bad_frames(server: ServerProcess) -> None:
    async with websockets.connect(f"{ws_url(server)}?api_key={server.api_key}") as socket:
        await socket.send(json.dumps({"type": "ping"}))
        assert json.loads(await asyncio.wait_for(socket.recv(), TIMEOUT)) == {"type": "pong"}
        await socket.send("not json")
        assert json.loads(await asyncio.wait_for(socket.recv(), TIMEOUT))["type"] == "error"
        await socket.send(json.dumps({"type": "subscribe", "event_types": ["message.exploded"]}))
        error = json.loads(await asyncio.wait_for(socket.recv(), TIMEOUT))
        assert error["type"] == "error"
        assert error["name"] == "ValidationError"
        await socket.send(json.dumps({"type": "subscribe"}))
        assert json.loads(await asyncio.wait_for(socket.recv(), TIMEOUT)) == {"type": "subscribed"}


async def test_restricted_events_need_the_label_permission(
    server: ServerProcess, sdk: AgentMail, async_sdk: AsyncAgentMail
) -> None:
    request = CreateBearerApiKeyRequest(name=unique("ws"), permissions=ApiKeyPermissions(message_read=True))
    created = sdk.api_keys.create(request=request)
    assert isinstance(created, CreateApiKeyResponse)
    limited = async_client_for(server, created.api_key)
    async with limited.websockets.connect() as socket:
        await socket.send_subscribe(Subscribe(event_types=["message.received.spam"]))
        error = await recv(socket)
        assert isinstance(error, Error)
        assert error.name == "ForbiddenError"
        assert error.message == "label_spam_read is forbidden"
    async with async_sdk.websockets.connect() as socket:
        await socket.send_subscribe(Subscribe(event_types=["message.received.spam"]))
        assert isinstance(await recv(socket), Subscribed)


async def test_binary_frames_get_an_error_and_the_channel_stays_open(server: ServerProcess) -> None:
    async with websockets.connect(f"{ws_url(server)}?api_key={server.api_key}") as socket:
        await socket.send(b"\x00\x01")
        error = json.loads(await asyncio.wait_for(socket.recv(), TIMEOUT))
        assert error == {"type": "error", "name": "ValidationError", "message": "frames must be JSON text, not binary"}
        await socket.send(json.dumps({"type": "ping"}))
        assert json.loads(await asyncio.wait_for(socket.recv(), TIMEOUT)) == {"type": "pong"}
