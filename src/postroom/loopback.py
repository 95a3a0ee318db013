"""Official-SDK clients that call this server's own REST app in-process, and a key's feed of live events.

The MCP tools and the console act only through these: every call passes the same routes, scope and permission
checks as a request from outside, and events reach them through the same hub and subscription rules as the
websocket channel.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
from agentmail import AsyncAgentMail
from agentmail.environment import AgentMailEnvironment
from starlette.types import ASGIApp

from postroom.domain.access import Principal
from postroom.domain.subscriptions import for_principal
from postroom.services.ports import EventChannel, EventStream

LOOPBACK_TIMEOUT_SECONDS = 60.0

# Reads an ``Authorization`` header value and returns who the key is (raises ``Unauthorized``).
Authenticate = Callable[[str | None], Principal]


def websocket_base(http_base: str) -> str:
    scheme, rest = http_base.split("://", 1)
    return f"{'wss' if scheme == 'https' else 'ws'}://{rest}"


@asynccontextmanager
async def loopback_client(
    app: ASGIApp, base_url: str, api_key: str, client: tuple[str, int] | None = None
) -> AsyncIterator[AsyncAgentMail]:
    """An SDK client whose requests go straight into ``app``; ``base_url`` is the address callers reached us on,
    so the links the API builds (signed downloads) point back at this server. ``client`` is the address of the
    person or agent on whose behalf the requests are made, where failed authentications are counted."""
    transport = httpx.ASGITransport(app=app, client=client or ("127.0.0.1", 123))
    async with httpx.AsyncClient(transport=transport, base_url=base_url, timeout=LOOPBACK_TIMEOUT_SECONDS) as http:
        environment = AgentMailEnvironment(http=base_url, websockets=websocket_base(base_url))
        yield AsyncAgentMail(
            api_key=api_key, environment=environment, httpx_client=http, timeout=LOOPBACK_TIMEOUT_SECONDS
        )


async def fetch_loopback(app: ASGIApp, url: str, max_bytes: int) -> bytes | None:
    """The body of a GET on ``url`` served by ``app`` (a signed download link), or None above ``max_bytes``."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, timeout=LOOPBACK_TIMEOUT_SECONDS) as http:
        response = await http.get(url)
        response.raise_for_status()
        return response.content if len(response.content) <= max_bytes else None


class EventFeed:
    """The events one key may see, as parsed §4.1 JSON objects, from the moment the feed was opened."""

    def __init__(self, channel: EventChannel) -> None:
        self._channel = channel

    async def next(self) -> dict[str, Any] | None:
        """The next event, or None once the server dropped this feed (it fell too far behind)."""
        frame = await self._channel.next_frame()
        if frame is None:
            return None
        event: dict[str, Any] = json.loads(frame)
        return event


@asynccontextmanager
async def event_feed(
    stream: EventStream, principal: Principal, event_types: list[str], inbox_ids: list[str]
) -> AsyncIterator[EventFeed]:
    """Subscribe like a websocket client of ``principal`` would: always inside the key's scope, restricted event
    types only with their label permission (``Forbidden`` otherwise)."""
    subscription = for_principal(principal, event_types, [], inbox_ids)
    channel = stream.open()
    try:
        channel.subscribe(subscription)
        yield EventFeed(channel)
    finally:
        channel.close()
