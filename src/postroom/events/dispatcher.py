"""The dispatcher: drains committed outbox rows to webhooks (leased, retried, in event order) and the hub.

It wakes when this process commits outbox rows, when PostgreSQL NOTIFY reports rows committed elsewhere, when
a retry falls due, and on a periodic poll as a safety net. Database work runs in threads, never on the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Coroutine
from datetime import datetime

from postroom.domain.events import DOMAIN_VERIFIED, OutboxEvent
from postroom.domain.webhooks import WebhookDelivery
from postroom.events import payloads
from postroom.events.hub import Hub
from postroom.events.sender import WebhookSender
from postroom.observability.collectors import WEBHOOK_DELIVERIES, WEBHOOK_LATENCY
from postroom.services.events.dispatch import Attempt, DispatchService, due_now
from postroom.services.ports import Clock

log = logging.getLogger("postroom.events")
BATCH = 100
REMEMBERED = 10_000  # event ids (and payloads) kept to publish each event once per process


class _Recent:
    """The last REMEMBERED keys with a value each; safe to share between the loop and worker threads."""

    def __init__(self) -> None:
        self._items: OrderedDict[str, str | None] = OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, key: str) -> bool:
        with self._lock:
            return key in self._items

    def get(self, key: str) -> str | None:
        with self._lock:
            return self._items.get(key)

    def remember(self, key: str, value: str | None) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > REMEMBERED:
                self._items.popitem(last=False)


class Dispatcher:
    def __init__(
        self,
        service: DispatchService,
        hub: Hub,
        sender: WebhookSender,
        *,
        poll_seconds: float,
        concurrency: int,
        clock: Clock,
        deliver_webhooks: bool = True,
    ) -> None:
        self._clock = clock
        self._deliver_webhooks = deliver_webhooks  # False: only this process's websocket clients (an API node)
        self._service = service
        self._hub = hub
        self._sender = sender
        self._poll = poll_seconds
        self._slots = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()
        self._fresh_ready = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._fresh: list[str] = []
        self._published = _Recent()
        self._payloads = _Recent()
        self._in_flight: set[str] = set()  # webhook ids with an attempt running in this process
        self._sending: dict[str, str] = {}  # webhook id -> the delivery id being sent right now
        self._tasks: set[asyncio.Task[None]] = set()

    def notify(self, event_ids: list[str]) -> None:
        """New outbox rows (call on the loop); an empty list just wakes the dispatcher."""
        if event_ids:
            self._fresh.extend(event_ids)
            self._fresh_ready.set()
        self._wake.set()

    def notify_threadsafe(self, event_ids: list[str]) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self.notify, event_ids)

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        if not self._deliver_webhooks:
            await self._publish_loop()
            return
        publisher = asyncio.create_task(self._publish_loop(), name="events-websocket-publisher")
        try:
            await self._dispatch_loop()
        finally:
            publisher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await publisher

    async def _publish_loop(self) -> None:
        """Websocket frames go out as soon as rows are committed, without waiting for the webhook work."""
        while True:
            await self._fresh_ready.wait()
            self._fresh_ready.clear()
            try:
                await self._publish_fresh()
            except Exception:
                log.exception("publishing events to websocket clients failed")

    async def _dispatch_loop(self) -> None:
        while True:
            self._wake.clear()
            next_due: datetime | None = None
            try:
                await self._dispatch_outbox()
                next_due = await self._schedule_webhook_deliveries()
            except Exception:
                log.exception("event dispatch failed; retrying")
            timeout = self._poll
            if next_due is not None:
                timeout = min(timeout, max(0.0, (next_due - self._clock.now()).total_seconds()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    async def stop(self) -> None:
        interrupted = list(self._sending.values())
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._sender.close()
        if interrupted:  # they may or may not have arrived: delivery is at least once, so they go again
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self._service.release, interrupted)

    def _render(self, event: OutboxEvent) -> str | None:
        cached = self._payloads.get(event.event_id)
        if cached is not None:
            return cached
        # A database error propagates: the lease brings the event back.
        view = self._service.domain_of(event) if event.event_type == DOMAIN_VERIFIED else None
        found = self._service.message_of(event)  # None for a domain event
        try:
            if view is not None:
                payload: str | None = payloads.domain_verified(event, view)
            else:
                payload = payloads.render(event, *found) if found is not None else None
        except Exception:  # one event that cannot be rendered must not block every event after it
            log.exception("cannot render event %s; it is dropped", event.event_id)
            payload = None
        self._payloads.remember(event.event_id, payload)
        return payload

    def _render_all(self, events: list[OutboxEvent], wanted: set[str] | None) -> list[tuple[OutboxEvent, str | None]]:
        """Each event's payload ("" when there is nothing to send); None, not rendered, for events outside
        ``wanted`` (None: render all), which no webhook wants and no websocket client here waits for."""
        return [
            (event, (self._render(event) or "") if wanted is None or event.event_id in wanted else None)
            for event in events
        ]

    def _publish(self, event: OutboxEvent, payload: str | None) -> None:
        if payload and event.event_id not in self._published:  # "" marks an event with nothing to send
            self._published.remember(event.event_id, None)
            self._hub.publish(event, payload)

    async def _publish_fresh(self) -> None:
        fresh, self._fresh = [e for e in dict.fromkeys(self._fresh) if e not in self._published], []
        if not fresh or self._hub.client_count == 0:
            return
        for event, stored in await asyncio.to_thread(self._service.events, fresh):
            payload = stored if stored is not None else await asyncio.to_thread(self._render, event)
            self._publish(event, payload)

    async def _dispatch_outbox(self) -> None:
        while True:
            events = await asyncio.to_thread(self._service.claim_events, BATCH)
            if not events:
                return
            listening = self._hub.client_count > 0
            wanted = None if listening else await asyncio.to_thread(self._service.wanted, events)
            rendered = await asyncio.to_thread(self._render_all, events, wanted)
            if listening:
                for event, payload in rendered:
                    self._publish(event, payload)
            busy = frozenset(self._in_flight)
            for attempt in await asyncio.to_thread(self._service.dispatch, rendered, busy, self._render):
                self._start(attempt.webhook.webhook_id, self._deliver(attempt))  # leased already: send at once
            if len(events) < BATCH:
                return

    async def _schedule_webhook_deliveries(self) -> datetime | None:
        heads = await asyncio.to_thread(self._service.heads, 1000)
        now = self._clock.now()
        next_due: datetime | None = None
        for head in heads:
            if head.webhook_id in self._in_flight:
                continue
            if due_now(head, now):
                self._start_attempt(head)
                continue
            at = max(head.next_attempt_at, head.lease_until or head.next_attempt_at)
            next_due = at if next_due is None else min(next_due, at)
        return next_due

    def _start(self, webhook_id: str, work: Coroutine[None, None, None]) -> None:
        if webhook_id in self._in_flight:
            work.close()
            return
        self._in_flight.add(webhook_id)
        task = asyncio.create_task(self._run_attempts(webhook_id, work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _start_attempt(self, head: WebhookDelivery) -> None:
        self._start(head.webhook_id, self._claim_and_deliver(head))

    async def _run_attempts(self, webhook_id: str, work: Coroutine[None, None, None]) -> None:
        try:
            async with self._slots:
                await work
        except Exception:
            log.exception("webhook attempt failed unexpectedly")
        finally:
            self._in_flight.discard(webhook_id)
            self._wake.set()

    async def _claim_and_deliver(self, head: WebhookDelivery) -> None:
        attempt = await asyncio.to_thread(self._service.claim_attempt, head.delivery_id)
        if attempt is not None:
            await self._deliver(attempt)

    async def _deliver(self, first: Attempt) -> None:
        attempt: Attempt | None = first
        try:
            while attempt is not None:  # this webhook's deliveries, one after another, in event order
                self._sending[attempt.webhook.webhook_id] = attempt.delivery.delivery_id
                outcome = await self._sender.send(attempt)
                if outcome.ok:
                    WEBHOOK_DELIVERIES.labels("delivered").inc()
                    waited = self._clock.now() - attempt.delivery.event_created_at
                    WEBHOOK_LATENCY.observe(max(0.0, waited.total_seconds()))
                    attempt = await asyncio.to_thread(self._service.succeeded, attempt)
                    continue
                WEBHOOK_DELIVERIES.labels("failed").inc()
                log.info("webhook %s attempt failed: %s", attempt.webhook.webhook_id, outcome.error)
                await asyncio.to_thread(self._service.failed, attempt, outcome.error or "failed")
                attempt = None
        finally:
            self._sending.pop(first.webhook.webhook_id, None)
