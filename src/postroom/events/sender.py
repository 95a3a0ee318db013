"""One signed webhook POST: re-check the target address, sign, send to the checked address, report how it went."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx

from postroom.events.signing import signature_headers
from postroom.net.pinning import PinnedRequest, UnsafeUrl, pinned_requests
from postroom.services.events.dispatch import Attempt
from postroom.services.ports import Clock, HostResolver

MAX_REDIRECTS = 0  # a redirect is a failure: following it could lead to an address the check never saw


@dataclass(frozen=True)
class Outcome:
    ok: bool
    error: str | None = None


class WebhookSender:
    def __init__(
        self,
        resolver: HostResolver,
        timeout_seconds: float,
        allow_private: bool,
        clock: Clock,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._clock = clock
        self._resolver = resolver
        self._allow_private = allow_private
        self._client = httpx.AsyncClient(
            timeout=timeout_seconds, follow_redirects=False, trust_env=False, transport=transport
        )

    async def send(self, attempt: Attempt) -> Outcome:
        webhook = attempt.webhook
        try:
            candidates = await asyncio.to_thread(
                pinned_requests, webhook.url, self._resolver, allow_private=self._allow_private
            )
        except UnsafeUrl as error:
            return Outcome(False, f"refused: {error}")
        headers = dict(webhook.headers)
        headers.update(signature_headers(webhook.secret, attempt.delivery.event_id, self._clock.now(), attempt.payload))
        headers["content-type"] = "application/json"
        try:
            response = await self._post(candidates, attempt.payload.encode(), headers)
        except httpx.TimeoutException:
            return Outcome(False, "timed out")
        except httpx.HTTPError as error:
            return Outcome(False, f"{type(error).__name__}: {error}")
        if 200 <= response.status_code < 300:
            return Outcome(True)
        return Outcome(False, f"HTTP {response.status_code}")

    async def _post(self, candidates: list[PinnedRequest], body: bytes, headers: dict[str, str]) -> httpx.Response:
        """POST to the first checked address that accepts a connection."""
        for index, pinned in enumerate(candidates):
            request = self._client.build_request(
                "POST", pinned.url, content=body, headers={**headers, **pinned.headers}, extensions=pinned.extensions
            )
            try:
                return await self._client.send(request)
            except httpx.ConnectError:
                if index == len(candidates) - 1:
                    raise
        raise httpx.ConnectError("no address to connect to")

    async def close(self) -> None:
        await self._client.aclose()
