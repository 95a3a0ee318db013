"""The retention repository: finds finished rows past their keeping time and deletes them in bounded batches.

Each call selects at most ``limit`` ids (on PostgreSQL locked with SKIP LOCKED, so concurrent sweepers take
disjoint batches and never wait on a row the dispatcher or a delivery worker holds) and deletes exactly those.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, delete, exists, literal_column, select, tuple_

from postroom.domain.metrics import MINUTE, epoch_seconds
from postroom.storage.tables import (
    delivery_jobs,
    delivery_recipients,
    idempotency_keys,
    message_labels,
    messages,
    metric_rollups,
    outbox,
    webhook_deliveries,
)

FINAL_RECIPIENT_STATES = ("delivered", "bounced", "rejected")


class SqlRetentionRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def _locked(self, query: Select[Any]) -> Select[Any]:
        if self._c.dialect.name == "postgresql":
            return query.with_for_update(skip_locked=True)
        return query

    def delete_dispatched_events(self, before: datetime, limit: int) -> int:
        """Dispatched outbox rows older than ``before`` that no kept webhook delivery still needs the payload of."""
        query = (
            select(outbox.c.event_id)
            .where(
                outbox.c.dispatched_at.is_not(None),
                outbox.c.dispatched_at < before,
                ~exists().where(webhook_deliveries.c.event_id == outbox.c.event_id),
            )
            .limit(limit)
        )
        ids = [str(row[0]) for row in self._c.execute(self._locked(query))]
        if ids:
            self._c.execute(delete(outbox).where(outbox.c.event_id.in_(ids)))
        return len(ids)

    def delete_webhook_deliveries(self, status: str, before: datetime, limit: int) -> int:
        """Webhook deliveries in ``status`` (delivered or dead, never pending) last changed before ``before``."""
        if status == "pending":
            raise ValueError("pending webhook deliveries are undelivered work and are never swept")
        query = (
            select(webhook_deliveries.c.delivery_id)
            .where(webhook_deliveries.c.status == status, webhook_deliveries.c.updated_at < before)
            .limit(limit)
        )
        ids = [str(row[0]) for row in self._c.execute(self._locked(query))]
        if ids:
            self._c.execute(delete(webhook_deliveries).where(webhook_deliveries.c.delivery_id.in_(ids)))
        return len(ids)

    def delete_finished_recipients(self, before: datetime, limit: int) -> int:
        """Recipient results settled before ``before`` of sent messages that have no delivery job left."""
        query = (
            select(delivery_recipients.c.row_id, delivery_recipients.c.address)
            .where(
                delivery_recipients.c.state.in_(FINAL_RECIPIENT_STATES),
                delivery_recipients.c.updated_at < before,
                ~exists().where(delivery_jobs.c.row_id == delivery_recipients.c.row_id),
            )
            .limit(limit)
        )
        keys = [(str(row[0]), str(row[1])) for row in self._c.execute(self._locked(query))]
        if keys:
            key = tuple_(delivery_recipients.c.row_id, delivery_recipients.c.address)
            self._c.execute(delete(delivery_recipients).where(key.in_(keys)))
        return len(keys)

    def delete_idempotency_records(self, before: datetime, limit: int) -> int:
        query = (
            select(idempotency_keys.c.organization_id, idempotency_keys.c.idempotency_key)
            .where(idempotency_keys.c.created_at < before)
            .limit(limit)
        )
        keys = [(str(row[0]), str(row[1])) for row in self._c.execute(self._locked(query))]
        if keys:
            key = tuple_(idempotency_keys.c.organization_id, idempotency_keys.c.idempotency_key)
            self._c.execute(delete(idempotency_keys).where(key.in_(keys)))
        return len(keys)

    def delete_minute_rollups(self, before: datetime, limit: int) -> int:
        """Minute-grain metric rollups of minutes starting before ``before`` (found through ix_metric_minutes)."""
        rows = metric_rollups.c
        query = (
            select(rows.scope_key, rows.metric, rows.grain, rows.cell)
            .where(
                rows.grain == literal_column(str(MINUTE)), rows.cell < epoch_seconds(before)
            )  # literal: matches the index
            .limit(limit)
        )
        keys = [(str(row[0]), str(row[1]), int(row[2]), int(row[3])) for row in self._c.execute(self._locked(query))]
        if keys:
            key = tuple_(rows.scope_key, rows.metric, rows.grain, rows.cell)
            self._c.execute(delete(metric_rollups).where(key.in_(keys)))
        return len(keys)

    def lock_trashed_messages(self, label: str, before: datetime, limit: int) -> list[str]:
        """Row ids of messages labelled ``label`` and unchanged since ``before``, with no delivery job pending.

        Locked for this transaction (skipping rows another transaction holds) so the caller can delete them.
        """
        query = (
            select(messages.c.row_id)
            .join(message_labels, message_labels.c.row_id == messages.c.row_id)
            .where(
                message_labels.c.label == label,
                messages.c.updated_at < before,
                ~exists().where(delivery_jobs.c.row_id == messages.c.row_id),
            )
            .limit(limit)
        )
        if self._c.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True, of=messages)
        return [str(row[0]) for row in self._c.execute(query)]
