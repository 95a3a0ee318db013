"""The delivery worker: claims due jobs, hands each message to inboxes here or to the next SMTP hop, records results.

Runs as a task in the ``serve`` event loop; database work happens in threads so the loop keeps serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from postroom.delivery.routing import Hop, NoRoute, Resolver, hops_for
from postroom.delivery.transmit import transmit
from postroom.domain.outbound import DeliveryResult, OutboundJob, Outcome
from postroom.observability.collectors import DELIVERY_ATTEMPTS
from postroom.services.sending.outbound import OutboundService

log = logging.getLogger("postroom.delivery")
RECORD_BATCH = 100


@dataclass(frozen=True)
class Routes:
    overrides: Mapping[str, Hop]
    relay: Hop | None
    resolver: Resolver
    helo_name: str
    mx_port: int = 25
    timeout_seconds: float = 60.0


class DeliveryWorker:
    def __init__(
        self,
        outbound: OutboundService,
        routes: Routes,
        *,
        concurrency: int = 8,
        poll_seconds: float = 1.0,
        attempt_seconds: float = 540.0,
    ) -> None:
        self._outbound = outbound
        self._routes = routes
        self._concurrency = concurrency
        self._poll_seconds = poll_seconds
        self._attempt_seconds = attempt_seconds  # below the job lease
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._results_queue: asyncio.Queue[tuple[OutboundJob, list[DeliveryResult]]] = asyncio.Queue()

    def wake(self) -> None:
        """Thread-safe: new jobs were committed; look now rather than at the next poll."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        recorder = asyncio.create_task(self._record_results())
        try:
            await self._claim_and_attempt()
        finally:
            recorder.cancel()

    async def _claim_and_attempt(self) -> None:
        running: set[asyncio.Task[None]] = set()
        while True:
            self._wake.clear()
            free = self._concurrency - len(running)
            try:
                jobs = await asyncio.to_thread(self._outbound.claim, free) if free > 0 else []
            except Exception:
                log.exception("claiming delivery jobs failed")
                jobs = []
            for job in jobs:
                task = asyncio.create_task(self._attempt(job))
                running.add(task)
                task.add_done_callback(self._finished(running))
            if free <= 0 or len(jobs) < free:  # otherwise more may be due: claim again at once
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._poll_seconds)

    def _finished(self, running: set[asyncio.Task[None]]) -> Callable[[asyncio.Task[None]], None]:
        def done(task: asyncio.Task[None]) -> None:
            running.discard(task)
            self._wake.set()  # a slot is free: claim more

        return done

    async def _attempt(self, job: OutboundJob) -> None:
        try:
            try:
                # Within the lease, so that no second attempt of the same job starts while this one still sends.
                async with asyncio.timeout(self._attempt_seconds):
                    results = await self._results(job)
            except TimeoutError:
                detail = f"the delivery attempt took longer than {self._attempt_seconds:.0f} s"
                results = [DeliveryResult(address, "temporary", None, detail) for address in job.recipients]
            for result in results:
                DELIVERY_ATTEMPTS.labels(result.outcome).inc()
            self._results_queue.put_nowait((job, results))
        except Exception:
            # The lease runs out and the job is tried again; nothing is lost.
            log.exception("delivery attempt of job %s failed", job.job_id)

    async def _record_results(self) -> None:
        """Write finished attempts in batches: one transaction for many jobs keeps the write lock free for others."""
        while True:
            batch = [await self._results_queue.get()]
            while not self._results_queue.empty() and len(batch) < RECORD_BATCH:
                batch.append(self._results_queue.get_nowait())
            try:
                await asyncio.to_thread(self._outbound.record_many, batch)
            except Exception:
                log.exception(
                    "recording %d delivery results failed; the jobs are retried after their lease", len(batch)
                )

    async def _results(self, job: OutboundJob) -> list[DeliveryResult]:
        rejected = await asyncio.to_thread(self._outbound.screen, job)
        refused = {result.address for result in rejected}
        addresses = [address for address in job.recipients if address not in refused]
        raw = await asyncio.to_thread(self._outbound.raw, job)
        if raw is None or not addresses:
            return rejected
        if await asyncio.to_thread(self._outbound.is_local, job):
            delivered = await asyncio.to_thread(self._outbound.deliver_locally, job, raw, addresses)
            return [*rejected, *delivered]
        return [*rejected, *await self._transmit(job, raw, addresses)]

    async def _transmit(self, job: OutboundJob, raw: bytes, addresses: list[str]) -> list[DeliveryResult]:
        routes = self._routes
        try:
            hops = await hops_for(
                job.domain,
                overrides=routes.overrides,
                relay=routes.relay,
                resolver=routes.resolver,
                port=routes.mx_port,
            )
        except NoRoute as no_route:
            outcome: Outcome = "permanent" if no_route.permanent else "temporary"
            return [DeliveryResult(address, outcome, None, no_route.reason) for address in addresses]
        return await transmit(
            hops,
            mail_from=job.mail_from,
            recipients=addresses,
            raw=raw,
            helo_name=routes.helo_name,
            timeout=routes.timeout_seconds,
        )
