"""Metric rollups: counter upserts in the caller's transaction, and the sums over grid cells the Metrics API reads."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import cast

from sqlalchemy import Connection, delete, func, literal_column, select
from sqlalchemy.dialects import postgresql, sqlite

from postroom.domain.metrics import GRAINS, Backlog, MetricOwner, cell_of, epoch_seconds
from postroom.storage.tables import delivery_jobs, metric_rollups, outbox, webhook_deliveries

_KEY = ["scope_key", "metric", "grain", "cell"]
# Increments a transaction made, merged per counter cell, kept on its connection until the commit writes them.
_PENDING = "postroom.pending_rollups"
_Cell = tuple[str, str, int, int]  # scope_key, metric, grain, cell


def _cells(owner: MetricOwner, increments: Mapping[str, int], at: datetime) -> dict[_Cell, int]:
    seconds = epoch_seconds(at)
    return {
        (scope, metric, grain, cell_of(seconds, grain)): amount
        for scope in owner.scope_keys()
        for metric, amount in increments.items()
        if amount
        for grain in GRAINS
    }


def _upsert(connection: Connection, cells: Mapping[_Cell, int]) -> None:
    if not cells:
        return
    # One order for every writer, so two transactions never wait on each other's counters in a cycle.
    rows = [
        {"scope_key": scope, "metric": metric, "grain": grain, "cell": cell, "value": cells[key]}
        for key in sorted(cells)
        for scope, metric, grain, cell in (key,)
    ]
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(metric_rollups)
    upsert = statement.on_conflict_do_update(
        index_elements=_KEY, set_={"value": metric_rollups.c.value + statement.excluded.value}
    )
    connection.execute(upsert, rows)


def defer_rollups(connection: Connection, owner: MetricOwner, increments: Mapping[str, int], at: datetime) -> None:
    """Add ``increments`` to the owner's counters (each scope, each grain) in the cells holding ``at``, written by
    ``flush_rollups`` before the transaction commits: a transaction that files many messages writes each counter
    cell once, in one statement."""
    pending: dict[_Cell, int] = connection.info.setdefault(_PENDING, {})
    for key, amount in _cells(owner, increments, at).items():
        pending[key] = pending.get(key, 0) + amount


def flush_rollups(connection: Connection) -> None:
    """Write the increments deferred on this connection (call inside the transaction, before its commit)."""
    _upsert(connection, connection.info.pop(_PENDING, {}))


def pending_rollups(connection: Connection) -> dict[_Cell, int]:
    """A copy of the increments deferred so far, for ``restore_rollups`` when a savepoint is rolled back."""
    return dict(connection.info.get(_PENDING, {}))


def restore_rollups(connection: Connection, pending: dict[_Cell, int]) -> None:
    connection.info[_PENDING] = pending


def discard_rollups(connection: Connection) -> None:
    """Forget deferred increments of a transaction that is rolled back."""
    connection.info.pop(_PENDING, None)


class SqlMetricsRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def add(self, owner: MetricOwner, increments: Mapping[str, int], at: datetime) -> None:
        defer_rollups(self._c, owner, increments, at)

    def forget(self, scope_key: str) -> None:
        flush_rollups(self._c)
        self._c.execute(delete(metric_rollups).where(metric_rollups.c.scope_key == scope_key))

    def bucket_sums(
        self, scope_key: str, metrics: list[str], grain: int, start: int, end: int, period: int | None
    ) -> dict[tuple[str, int], int]:
        """Sums per (metric, bucket start) of the cells in [start, end); buckets of ``period`` s (None: each cell)."""
        flush_rollups(self._c)
        rows = metric_rollups.c
        conditions = (
            rows.scope_key == scope_key,
            rows.metric.in_(metrics),
            rows.grain == grain,
            rows.cell >= start,
            rows.cell < end,
        )
        if period is None or period == grain:  # one cell per bucket: read the rows as they are, no grouping
            plain = select(rows.metric, rows.cell, rows.value).where(*conditions)
            return {(str(row[0]), int(row[1])): int(row[2]) for row in self._c.execute(plain)}
        # Inlined (a whole number): PostgreSQL needs the GROUP BY expression to match the selected one exactly.
        bucket = rows.cell - rows.cell % literal_column(str(int(period)))
        query = (
            select(rows.metric, bucket.label("bucket"), func.sum(rows.value))
            .where(*conditions)
            .group_by(rows.metric, bucket)
        )
        return {(str(row[0]), int(cast(int, row[1]))): int(cast(int, row[2])) for row in self._c.execute(query)}

    def totals_before(self, scope_key: str, metrics: list[str], grain: int, before: int) -> dict[str, int]:
        """Per metric, the sum of the cells of ``grain`` that start before ``before`` (epoch seconds)."""
        flush_rollups(self._c)
        rows = metric_rollups.c
        query = (
            select(rows.metric, func.sum(rows.value))
            .where(rows.scope_key == scope_key, rows.metric.in_(metrics), rows.grain == grain, rows.cell < before)
            .group_by(rows.metric)
        )
        return {str(row[0]): int(cast(int, row[1])) for row in self._c.execute(query)}

    def backlog(self, now: datetime) -> Backlog:
        jobs = delivery_jobs.c
        due = jobs.next_attempt_at <= now
        job_count, due_count, oldest_due = self._c.execute(
            select(func.count(), func.count().filter(due), func.min(jobs.next_attempt_at).filter(due))
        ).one()
        pending = webhook_deliveries.c.status == "pending"
        hooks, oldest_event = self._c.execute(
            select(func.count(), func.min(webhook_deliveries.c.event_created_at)).where(pending)
        ).one()
        undispatched = self._c.execute(select(func.count()).where(outbox.c.dispatched_at.is_(None))).scalar_one()
        return Backlog(
            jobs=int(cast(int, job_count)),
            jobs_due=int(cast(int, due_count)),
            oldest_due_job_seconds=_age(now, cast(datetime | None, oldest_due)),
            webhooks=int(cast(int, hooks)),
            oldest_webhook_seconds=_age(now, cast(datetime | None, oldest_event)),
            undispatched=int(undispatched),
        )


def _age(now: datetime, since: datetime | None) -> float:
    if since is None:
        return 0.0
    if since.tzinfo is None:  # stored naive on SQLite: UTC
        since = since.replace(tzinfo=UTC)
    return max(0.0, (now - since).total_seconds())
