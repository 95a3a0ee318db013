"""The delivery worker: claims due jobs, hands each message to inboxes here or to the next SMTP hop, records results.

Runs as a task in the ``serve`` event loop; database work happens in threads so the loop keeps serving. On
shutdown (``stop``) it claims nothing more, lets transmissions under way finish, records every result it holds and
hands back the jobs it claimed but had not started sending, so another worker takes them at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from postroom.delivery.connections import SmtpSessions
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
        sessions: SmtpSessions | None = None,
    ) -> None:
        self._outbound = outbound
        self._routes = routes
        self._concurrency = concurrency
        self._poll_seconds = poll_seconds
        self._attempt_seconds = attempt_seconds  # below the job lease
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._results_queue: asyncio.Queue[tuple[OutboundJob, list[DeliveryResult]]] = asyncio.Queue()
        self._draining = False
        self._attempts: dict[asyncio.Task[None], OutboundJob] = {}
        self._sending: set[str] = set()  # job ids whose message is being handed over: never handed back
        # Consecutive messages to one hop share an SMTP session instead of connecting and greeting each time.
        self._sessions = sessions if sessions is not None else SmtpSessions()

    def wake(self) -> None:
        """Thread-safe: new jobs were committed; look now rather than at the next poll."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        recorder = asyncio.create_task(self._record_results())
        closer = asyncio.create_task(self._close_idle_sessions())
        try:
            await self._claim_and_attempt()
            await asyncio.Future()  # drained: results are still recorded until stop() is done and cancels this
        finally:
            recorder.cancel()
            closer.cancel()

    @property
    def draining(self) -> bool:
        return self._draining

    def drain(self) -> None:
        """Claim nothing more (call on the loop); ``stop`` then finishes what is under way."""
        self._draining = True
        self._wake.set()

    async def stop(self, timeout: float) -> None:
        """Drain: hand back jobs not yet sending, wait up to ``timeout`` for the others, record every result.

        An attempt still sending at the deadline is cut without handing its job back: the message may have gone
        out, so it waits for its lease to run out like after a crash (at least once, never twice within a lease).
        """
        self.drain()
        waiting = {task: job for task, job in self._attempts.items() if job.job_id not in self._sending}
        for task in waiting:
            task.cancel()
        await asyncio.gather(*waiting, return_exceptions=True)
        sending = [task for task in self._attempts if not task.done()]
        if sending:
            _, late = await asyncio.wait(sending, timeout=timeout)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        finished: list[tuple[OutboundJob, list[DeliveryResult]]] = []
        while not self._results_queue.empty():
            finished.append(self._results_queue.get_nowait())
        if finished:
            await asyncio.to_thread(self._outbound.record_many, finished)
        unstarted = [job for task, job in waiting.items() if task.cancelled()]
        if unstarted:
            await asyncio.to_thread(self._outbound.release, unstarted)
            log.info("handed back %d delivery jobs not yet started", len(unstarted))
        await self._sessions.close_all()

    async def _close_idle_sessions(self) -> None:
        while True:
            await asyncio.sleep(self._sessions.idle_seconds / 2)
            try:
                await self._sessions.close_idle()
            except Exception:
                log.exception("closing idle SMTP sessions failed")

    async def _claim_and_attempt(self) -> None:
        running: set[asyncio.Task[None]] = set()
        while not self._draining:
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
                self._attempts[task] = job
                task.add_done_callback(self._finished(running))
            if free <= 0 or len(jobs) < free:  # otherwise more may be due: claim again at once
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._poll_seconds)

    def _finished(self, running: set[asyncio.Task[None]]) -> Callable[[asyncio.Task[None]], None]:
        def done(task: asyncio.Task[None]) -> None:
            running.discard(task)
            job = self._attempts.pop(task, None)
            if job is not None:
                self._sending.discard(job.job_id)
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
        prepared = await asyncio.to_thread(self._outbound.prepare, job)
        rejected = prepared.rejected
        refused = {result.address for result in rejected}
        addresses = [address for address in job.recipients if address not in refused]
        raw = prepared.raw
        if raw is None or not addresses:
            return rejected
        self._sending.add(job.job_id)
        if prepared.local:
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
            sessions=self._sessions,
        )
