"""Shared helpers for the conformance suite: unique names, no-retry request options and error assertions."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest
from agentmail import AsyncAgentMail
from agentmail.core.api_error import ApiError
from agentmail.core.request_options import RequestOptions

from tests.conformance.conftest import environment
from tests.support.server import ServerProcess

T = TypeVar("T")

DEFAULT_DOMAIN = "postroom.localhost"

# The SDK retries 408/409/429/5xx twice with backoff; a call that is expected to fail must not.
NO_RETRY: RequestOptions = {"max_retries": 0}


def unique(prefix: str = "conf") -> str:
    """A username-safe name nobody else on the shared server uses."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def address(username: str) -> str:
    return f"{username}@{DEFAULT_DOMAIN}"


def async_client_for(server: ServerProcess, api_key: str) -> AsyncAgentMail:
    return AsyncAgentMail(api_key=api_key, environment=environment(server))


def body_of(error: ApiError) -> dict[str, Any]:
    """The error body as a dict, whether the SDK parsed it into a model or left it as JSON."""
    body = error.body
    if hasattr(body, "model_dump"):
        dumped: dict[str, Any] = body.model_dump()
        return dumped
    assert isinstance(body, dict), f"error body is not JSON: {body!r}"
    return body


def check_error(
    error: ApiError, status: int, code: str | None = None, kind: type[ApiError] = ApiError
) -> dict[str, Any]:
    assert isinstance(error, kind), f"expected {kind.__name__}, got {type(error).__name__}: {error}"
    assert error.status_code == status, f"expected {status}, got {error.status_code}: {error.body}"
    body = body_of(error)
    assert isinstance(body.get("name"), str)
    assert isinstance(body.get("message"), str)
    if code is not None:
        assert body.get("code") == code, body
    if status == 400:
        errors = body.get("errors")
        assert isinstance(errors, list), body
        assert errors, body
        assert all(isinstance(item.get("path"), str) and isinstance(item.get("message"), str) for item in errors), body
    return body


def expect_error(
    call: Callable[[], object], status: int, code: str | None = None, kind: type[ApiError] = ApiError
) -> dict[str, Any]:
    """Run ``call``, which must raise ``kind`` with ``status`` (and ``code``); return the error body."""
    with pytest.raises(ApiError) as caught:
        call()
    return check_error(caught.value, status, code, kind)


async def expect_async_error(
    call: Callable[[], Awaitable[object]], status: int, code: str | None = None, kind: type[ApiError] = ApiError
) -> dict[str, Any]:
    with pytest.raises(ApiError) as caught:
        await call()
    return check_error(caught.value, status, code, kind)


def walk(fetch: Callable[[str | None], tuple[list[T], str | None]], max_pages: int = 500) -> list[T]:
    """Follow ``next_page_token`` from the first page to the end and return every item in order."""
    items: list[T] = []
    token: str | None = None
    for _ in range(max_pages):
        page, token = fetch(token)
        items.extend(page)
        if not token:
            return items
    raise AssertionError(f"pagination did not end within {max_pages} pages")


async def walk_async(
    fetch: Callable[[str | None], Awaitable[tuple[list[T], str | None]]], max_pages: int = 500
) -> list[T]:
    items: list[T] = []
    token: str | None = None
    for _ in range(max_pages):
        page, token = await fetch(token)
        items.extend(page)
        if not token:
            return items
    raise AssertionError(f"pagination did not end within {max_pages} pages")
