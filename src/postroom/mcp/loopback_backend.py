"""The backend of ``/mcp`` in ``postroom serve``: the SDK calls the REST app in-process with the caller's key,
and new mail comes from the server's event hub under the key's subscription rules (no database polling)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import httpx
from agentmail import AsyncAgentMail
from starlette.types import ASGIApp

from postroom.domain.access import Principal
from postroom.loopback import EventFeed, event_feed, fetch_loopback, loopback_client
from postroom.mcp.backend import MESSAGE_RECEIVED, BackendError, MailFeed, Session
from postroom.services.ports import EventStream


@dataclass(frozen=True)
class Caller:
    """Who sent the MCP request being served, set by the ``/mcp`` key gate for the tools it runs."""

    api_key: str
    principal: Principal
    base_url: str


current_caller: ContextVar[Caller | None] = ContextVar("postroom_mcp_caller", default=None)


class NotAuthenticated(BackendError):
    pass


@dataclass(frozen=True)
class _LoopbackSession:
    client: AsyncAgentMail
    caller: Caller
    app: ASGIApp
    stream: EventStream

    def new_mail(self, inbox_ids: list[str]) -> AbstractAsyncContextManager[MailFeed]:
        return _feed(self.stream, self.caller.principal, inbox_ids)

    async def download(self, url: str, max_bytes: int) -> bytes | None:
        if url.startswith(self.caller.base_url + "/"):
            return await fetch_loopback(self.app, url, max_bytes)
        async with httpx.AsyncClient(timeout=60.0) as http:  # a presigned object-store URL
            response = await http.get(url)
            response.raise_for_status()
            return response.content if len(response.content) <= max_bytes else None


@asynccontextmanager
async def _feed(stream: EventStream, principal: Principal, inbox_ids: list[str]) -> AsyncIterator[EventFeed]:
    async with event_feed(stream, principal, [MESSAGE_RECEIVED], inbox_ids) as feed:
        yield feed


class LoopbackBackend:
    def __init__(self, app: ASGIApp, stream: EventStream) -> None:
        self._app = app
        self._stream = stream

    @asynccontextmanager
    async def session(self) -> AsyncIterator[Session]:
        caller = current_caller.get()
        if caller is None:
            raise NotAuthenticated("no API key for this MCP request")
        async with loopback_client(self._app, caller.base_url, caller.api_key) as client:
            yield _LoopbackSession(client, caller, self._app, self._stream)
