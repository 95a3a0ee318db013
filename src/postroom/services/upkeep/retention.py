"""Retention: deletes finished work and old trash once it is past its keeping time, a small batch per transaction.

Only finished rows go: dispatched events no kept webhook delivery needs, delivered and dead webhook deliveries,
settled recipient results of messages with no delivery job left, expired Idempotency-Keys, minute-grain metric
rollups older than any Metrics API answer reads (hour rows stay), and (when enabled) messages labelled ``trash``.
Pending outbox rows, due delivery jobs and webhook deliveries awaiting a retry are never selected. Each batch is
its own short transaction, so ingest and sending interleave with a sweep.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from postroom.domain.labels import TRASH
from postroom.domain.webhooks import DeliveryStatus
from postroom.services.mail.mailbox import delete_blobs, remove_messages
from postroom.services.metrics.queries import MINUTE_ROWS_READ
from postroom.services.ports import BlobStore, Clock, RetentionRepository, UnitOfWorkFactory
from postroom.services.sending.send import IDEMPOTENCY_LIFETIME


@dataclass(frozen=True)
class RetentionPolicy:
    """How long each kind of finished row is kept; None keeps it forever."""

    dispatched_events: timedelta | None = timedelta(days=7)
    delivered_webhooks: timedelta | None = timedelta(days=7)
    dead_letters: timedelta | None = timedelta(days=30)
    delivery_results: timedelta | None = timedelta(days=30)
    trash: timedelta | None = None
    minute_metrics: timedelta | None = MINUTE_ROWS_READ
    batch_size: int = 500

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError("the retention batch size must be at least 1")


@dataclass(frozen=True)
class Sweep:
    """One kind of cleanup with its cutoff fixed: each ``run`` deletes one batch and says how many rows went."""

    name: str
    run: Callable[[], int]


def keep_days(days: float) -> timedelta | None:
    """A retention setting in days: 0 (or less) keeps forever."""
    return timedelta(days=days) if days > 0 else None


class RetentionService:
    def __init__(self, uow_factory: UnitOfWorkFactory, blobs: BlobStore, policy: RetentionPolicy, clock: Clock):
        self._uow = uow_factory
        self._blobs = blobs
        self._clock = clock
        self.policy = policy

    def plan(self) -> list[Sweep]:
        """The sweeps due now, their cutoffs taken from the clock once so that every sweep has an end.

        Webhook deliveries go before the outbox: an event is kept while a kept delivery needs its payload.
        """
        now = self._clock.now()
        limit = self.policy.batch_size
        kinds: list[tuple[str, timedelta | None, Callable[[RetentionRepository, datetime], int]]] = [
            ("idempotency_keys", IDEMPOTENCY_LIFETIME, lambda r, t: r.delete_idempotency_records(t, limit)),
            (
                "webhook_deliveries",
                self.policy.delivered_webhooks,
                lambda r, t: r.delete_webhook_deliveries(DeliveryStatus.DELIVERED, t, limit),
            ),
            (
                "dead_letters",
                self.policy.dead_letters,
                lambda r, t: r.delete_webhook_deliveries(DeliveryStatus.DEAD, t, limit),
            ),
            ("outbox", self.policy.dispatched_events, lambda r, t: r.delete_dispatched_events(t, limit)),
            ("delivery_results", self.policy.delivery_results, lambda r, t: r.delete_finished_recipients(t, limit)),
            ("minute_metrics", self.policy.minute_metrics, lambda r, t: r.delete_minute_rollups(t, limit)),
        ]
        sweeps = [Sweep(name, self._deleting(delete, now - age)) for name, age, delete in kinds if age is not None]
        if self.policy.trash is not None:
            cutoff = now - self.policy.trash
            sweeps.append(Sweep("trash", lambda: self._delete_trash(cutoff)))
        return sweeps

    def sweep(self) -> dict[str, int]:
        """Run every due sweep to its end, batch after batch; how many rows each deleted."""
        deleted: dict[str, int] = {}
        for step in self.plan():
            deleted[step.name] = 0
            while True:
                count = step.run()
                deleted[step.name] += count
                if count < self.policy.batch_size:
                    break
        return deleted

    def _deleting(self, delete: Callable[[RetentionRepository, datetime], int], before: datetime) -> Callable[[], int]:
        def run() -> int:
            with self._uow(write=True, durable=False) as uow:
                count = delete(uow.retention, before)
                uow.commit()
            return count

        return run

    def _delete_trash(self, before: datetime) -> int:
        """Messages in the trash since before ``before``: deleted as the API deletes them, blobs after commit."""
        with self._uow(write=True) as uow:
            row_ids = uow.retention.lock_trashed_messages(TRASH, before, self.policy.batch_size)
            doomed = [m for m in (uow.mail.get_message_row(row_id) for row_id in row_ids) if m is not None]
            prefixes = remove_messages(uow, doomed, self._clock.now())
            uow.commit()
        delete_blobs(self._blobs, prefixes)
        return len(row_ids)
