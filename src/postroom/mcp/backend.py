"""What a tool call runs against: an SDK client bound to the caller's API key, a feed of new mail, downloads.

``Backend.session()`` is entered once per tool call. The HTTP transport's backend answers from the server's own
REST app in-process (``mcp/loopback_backend.py``); ``postroom mcp`` uses a remote one (``mcp/remote_backend.py``).
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from agentmail import AsyncAgentMail

MESSAGE_RECEIVED = "message.received"


class BackendError(Exception):
    """A tool call could not reach the API as its caller (no key, or the event channel refused)."""


class MailFeed(Protocol):
    async def next(self) -> dict[str, Any] | None:
        """The next ``message.received`` event (§4.1 JSON) in the caller's scope, or None once the feed ended."""


class Session(Protocol):
    @property
    def client(self) -> AsyncAgentMail: ...

    def new_mail(self, inbox_ids: list[str]) -> AbstractAsyncContextManager[MailFeed]:
        """A feed of mail arriving from now on, in these inboxes (all the caller sees when empty)."""

    async def download(self, url: str, max_bytes: int) -> bytes | None:
        """The bytes behind a signed download link from the API, or None when there are more than ``max_bytes``."""


class Backend(Protocol):
    def session(self) -> AbstractAsyncContextManager[Session]: ...


def as_json(model: Any) -> dict[str, Any]:
    """An SDK response model as the API's JSON object (``from``, not ``from_``; absent fields left out)."""
    dumped: dict[str, Any] = model.model_dump(mode="json", by_alias=True, exclude_none=True)
    return dumped
