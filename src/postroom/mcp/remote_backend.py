"""The backend of ``postroom mcp`` (stdio): the SDK talks to a Postroom server over HTTP, and new mail arrives
through the SDK's websocket client (``client.websockets.connect()``), never by polling."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from agentmail import AsyncAgentMail
from agentmail.environment import AgentMailEnvironment
from agentmail.websockets import Subscribe
from agentmail.websockets.socket_client import AsyncWebsocketsSocketClient

from postroom.loopback import websocket_base
from postroom.mcp.backend import MESSAGE_RECEIVED, BackendError, MailFeed, Session, as_json

TIMEOUT_SECONDS = 60.0


class FeedRefused(BackendError):
    """The websocket channel answered the subscription with an error frame."""


class _SocketFeed:
    def __init__(self, socket: AsyncWebsocketsSocketClient) -> None:
        self._socket = socket

    async def next(self) -> dict[str, Any] | None:
        while True:
            try:
                frame = await self._socket.recv()
            except Exception:  # the SDK surfaces a closed socket as the websockets library's own errors
                return None
            data = frame if isinstance(frame, dict) else as_json(frame) if not isinstance(frame, bytes) else {}
            if data.get("type") == "event" and data.get("event_type") == MESSAGE_RECEIVED:
                return data


@dataclass(frozen=True)
class _RemoteSession:
    client: AsyncAgentMail
    http: httpx.AsyncClient

    def new_mail(self, inbox_ids: list[str]) -> AbstractAsyncContextManager[MailFeed]:
        return self._feed(inbox_ids)

    @asynccontextmanager
    async def _feed(self, inbox_ids: list[str]) -> AsyncIterator[MailFeed]:
        async with self.client.websockets.connect() as socket:
            await socket.send_subscribe(Subscribe(event_types=[MESSAGE_RECEIVED], inbox_ids=inbox_ids or None))
            ack = await socket.recv()
            data = ack if isinstance(ack, dict) else as_json(ack) if not isinstance(ack, bytes) else {}
            if data.get("type") != "subscribed":
                raise FeedRefused(str(data.get("message") or "the event channel refused the subscription"))
            yield _SocketFeed(socket)

    async def download(self, url: str, max_bytes: int) -> bytes | None:
        async with self.http.stream("GET", url) as response:
            response.raise_for_status()
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body.extend(chunk)
                if len(body) > max_bytes:
                    return None
            return bytes(body)


class RemoteBackend:
    def __init__(self, api_url: str, api_key: str) -> None:
        self._api_url = api_url.rstrip("/")
        self._api_key = api_key

    @asynccontextmanager
    async def session(self) -> AsyncIterator[Session]:
        async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS, follow_redirects=True) as http:
            environment = AgentMailEnvironment(http=self._api_url, websockets=websocket_base(self._api_url))
            client = AsyncAgentMail(
                api_key=self._api_key, environment=environment, httpx_client=http, timeout=TIMEOUT_SECONDS
            )
            yield _RemoteSession(client, http)
