"""One signed webhook POST: re-check the target address, sign, send with a timeout, report success or why not."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx

from postroom.domain.webhooks import check_addresses, url_host
from postroom.errors import InvalidInput
from postroom.events.signing import signature_headers
from postroom.services.events.dispatch import Attempt
from postroom.services.ports import Clock, HostResolver

MAX_REDIRECTS = 0  # a redirect is a failure: following it could lead to an address the check never saw


@dataclass(frozen=True)
class Outcome:
    ok: bool
    error: str | None = None


class WebhookSender:
    def __init__(self, resolver: HostResolver, timeout_seconds: float, allow_private: bool, clock: Clock) -> None:
        self._clock = clock
        self._resolver = resolver
        self._allow_private = allow_private
        self._client = httpx.AsyncClient(timeout=timeout_seconds, follow_redirects=False, trust_env=False)

    async def send(self, attempt: Attempt) -> Outcome:
        webhook = attempt.webhook
        try:
            host = url_host(webhook.url)
            addresses = await asyncio.to_thread(self._resolver.addresses, host)
            check_addresses(host, addresses, self._allow_private)
        except InvalidInput as error:
            return Outcome(False, f"refused: {error.message}")
        headers = dict(webhook.headers)
        headers.update(signature_headers(webhook.secret, attempt.delivery.event_id, self._clock.now(), attempt.payload))
        headers["content-type"] = "application/json"
        try:
            response = await self._client.post(webhook.url, content=attempt.payload.encode(), headers=headers)
        except httpx.TimeoutException:
            return Outcome(False, "timed out")
        except httpx.HTTPError as error:
            return Outcome(False, f"{type(error).__name__}: {error}")
        if 200 <= response.status_code < 300:
            return Outcome(True)
        return Outcome(False, f"HTTP {response.status_code}")

    async def close(self) -> None:
        await self._client.aclose()
