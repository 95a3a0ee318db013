"""The delivery queue's use cases: claim due jobs under a lease, deliver to inboxes hosted here, record results.

The worker (``postroom.delivery``) does the network part; every state change happens here, in one transaction
per job attempt, and only while the worker's lease on the job still holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from postroom.domain.ids import new_id
from postroom.domain.inbox import InboxStatus
from postroom.domain.outbound import DeliveryResult, OutboundJob, RetryPolicy
from postroom.services.domains.hosting import HostedDomains
from postroom.services.mail.receive import FromInbox, InboundMessage, ReceiveService, inbox_address
from postroom.services.outbox import commit_and_wake
from postroom.services.ports import BlobStore, Clock, UnitOfWork, UnitOfWorkFactory, Wakeups
from postroom.services.sending.outcomes import apply_results
from postroom.services.trust.lists import evaluate


@dataclass(frozen=True)
class PreparedAttempt:
    """What a delivery attempt needs to know before it sends."""

    rejected: list[DeliveryResult]  # recipients blocked since the message was queued
    raw: bytes | None  # the signed bytes; None when the message was deleted meanwhile
    local: bool  # delivered to inboxes here rather than over SMTP


class OutboundService:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        blobs: BlobStore,
        receive: ReceiveService,
        retry: RetryPolicy,
        lease: timedelta,
        hosted: HostedDomains,
        clock: Clock,
        wakeups: Wakeups,
    ) -> None:
        self._clock = clock
        self._wakeups = wakeups
        self._uow = uow_factory
        self._blobs = blobs
        self._receive = receive
        self._retry = retry
        self._lease = lease
        self._hosted = hosted

    def claim(self, limit: int) -> list[OutboundJob]:
        """Due jobs, leased to the caller; a job whose worker dies comes due again when the lease runs out."""
        now = self._clock.now()
        with self._uow(write=True) as uow:
            jobs = uow.outbound_jobs.claim_due(now, new_id("lease"), now + self._lease, limit)
            uow.commit()
        return jobs

    def release(self, jobs: list[OutboundJob]) -> None:
        """Hand back claimed jobs whose attempt never started (a worker shutting down): due again at once."""
        now = self._clock.now()
        with self._uow(write=True) as uow:
            for job in jobs:
                uow.outbound_jobs.release(job.job_id, job.lease or "", now)
            uow.commit()  # other processes' workers find them at their next poll

    def prepare(self, job: OutboundJob) -> PreparedAttempt:
        """Screen the recipients, find the bytes and the route of one attempt, reading in one transaction."""
        with self._uow() as uow:
            rejected = self._screen(uow, job)
            message = uow.mail.get_message_row(job.row_id)
            local = self._is_local(uow, job)
        return PreparedAttempt(rejected, self._read(message.raw_blob_key) if message else None, local)

    def _is_local(self, uow: UnitOfWork, job: OutboundJob) -> bool:
        """Recipients at a domain hosted here are always delivered here, whatever relay or MX is configured."""
        return job.domain == self._hosted.default_domain or self._hosted.receives_at(uow, job.domain)

    def _read(self, blob_key: str) -> bytes:
        with self._blobs.open(blob_key) as stream:
            return stream.read()

    @staticmethod
    def _screen(uow: UnitOfWork, job: OutboundJob) -> list[DeliveryResult]:
        inbox = uow.inboxes.get(job.inbox_id)
        if inbox is None:
            return []
        results = []
        for address in job.recipients:
            decision = evaluate(uow, inbox, "send", address)
            if not decision.allowed:
                results.append(DeliveryResult(address, "rejected", None, decision.reason))
        return results

    def deliver_locally(self, job: OutboundJob, raw: bytes, addresses: list[str]) -> list[DeliveryResult]:
        """Hand the message to each recipient inbox through the receive path SMTP ingress uses."""
        results = []
        for address in addresses:
            with self._uow() as uow:
                inbox = self._receive.recipient_inbox(uow, inbox_address(address))
            if inbox is None:
                results.append(DeliveryResult(address, "permanent", 550, "5.1.1 No such mailbox here"))
            elif inbox.status is InboxStatus.PAUSED:
                results.append(DeliveryResult(address, "permanent", 550, "5.2.1 The mailbox is paused"))
            else:
                self._receive.store(
                    InboundMessage(raw, job.mail_from, [inbox.inbox_id], origin=FromInbox(job.inbox_id))
                )
                results.append(DeliveryResult(address, "delivered", 250, "2.0.0 Delivered to a local inbox"))
        return results

    def record(self, job: OutboundJob, results: list[DeliveryResult]) -> None:
        self.record_many([(job, results)])

    def record_many(self, attempts: list[tuple[OutboundJob, list[DeliveryResult]]]) -> None:
        """Apply attempts' results in one transaction; retry what failed temporarily, bounce it after the window.

        A job whose lease ran out (another worker took it over) or whose message was deleted is skipped.
        """
        now = self._clock.now()
        with self._uow(write=True) as uow:
            for job, results in attempts:
                self._apply(uow, job, results, now)
            commit_and_wake(uow, self._wakeups)

    def _apply(self, uow: UnitOfWork, job: OutboundJob, results: list[DeliveryResult], now: datetime) -> None:
        current = uow.outbound_jobs.get_job(job.job_id, job.lease or "")
        if current is None:
            return
        message = uow.mail.get_message_row(job.row_id, lock=True)
        if message is None:
            uow.outbound_jobs.finish(job.job_id)
            return
        retry = apply_results(uow, message, results, now, give_up=now >= current.expires_at)
        if retry:
            current.recipients = retry
            current.next_attempt_at = min(now + self._retry.delay(current.attempts), current.expires_at)
            current.last_error = next((r.detail for r in results if r.address in retry), None)
            uow.outbound_jobs.reschedule(current)
        else:
            uow.outbound_jobs.finish(job.job_id)
