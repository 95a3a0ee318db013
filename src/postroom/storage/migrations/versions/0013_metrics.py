"""metrics: the metric_rollups counters behind the Metrics API, filled from the rows already stored

Event counts come from the outbox rows still kept; usage from the messages, threads, inboxes, pods and custom
domains that exist (each counted when it was created), so an upgraded server reports its history.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime

import sqlalchemy as sa
from alembic import op

from postroom.domain.metrics import (
    DOMAIN_COUNT,
    GRAINS,
    INBOX_COUNT,
    MESSAGE_COUNT,
    POD_COUNT,
    STORAGE_BYTES,
    THREAD_COUNT,
    MetricOwner,
    cell_of,
    epoch_seconds,
    event_increments,
)
from postroom.storage.tables import UtcDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_BATCH = 5000


def _table(name: str, *columns: str, json: str | None = None) -> sa.TableClause:
    typed = [sa.column(column, UtcDateTime()) if column == "created_at" else sa.column(column) for column in columns]
    if json is not None:
        typed.append(sa.column(json, sa.JSON()))
    return sa.table(name, *typed)


def _rows(connection: sa.Connection, table: sa.TableClause) -> Iterator[sa.RowMapping]:
    result = connection.execute(sa.select(table).execution_options(yield_per=_BATCH))
    yield from result.mappings()


def _changes(connection: sa.Connection) -> Iterator[tuple[MetricOwner, dict[str, int], datetime]]:
    outbox = _table("outbox", "event_type", "organization_id", "pod_id", "inbox_id", "created_at", json="data")
    for row in _rows(connection, outbox):
        owner = MetricOwner(row["organization_id"], row["pod_id"], row["inbox_id"])
        yield owner, event_increments(row["event_type"], row["data"] or {}), row["created_at"]
    messages = _table("messages", "organization_id", "pod_id", "inbox_id", "size", "created_at")
    for row in _rows(connection, messages):
        owner = MetricOwner(row["organization_id"], row["pod_id"], row["inbox_id"])
        yield owner, {MESSAGE_COUNT: 1, STORAGE_BYTES: row["size"]}, row["created_at"]
    threads = _table("threads", "organization_id", "pod_id", "inbox_id", "created_at")
    for row in _rows(connection, threads):
        yield MetricOwner(row["organization_id"], row["pod_id"], row["inbox_id"]), {THREAD_COUNT: 1}, row["created_at"]
    for row in _rows(connection, _table("inboxes", "organization_id", "pod_id", "created_at")):
        yield MetricOwner(row["organization_id"], row["pod_id"]), {INBOX_COUNT: 1}, row["created_at"]
    for row in _rows(connection, _table("pods", "organization_id", "created_at")):
        yield MetricOwner(row["organization_id"]), {POD_COUNT: 1}, row["created_at"]
    for row in _rows(connection, _table("custom_domains", "organization_id", "pod_id", "created_at")):
        yield MetricOwner(row["organization_id"], row["pod_id"]), {DOMAIN_COUNT: 1}, row["created_at"]


def upgrade() -> None:
    rollups = op.create_table(
        "metric_rollups",
        sa.Column("scope_key", sa.String(330), nullable=False),
        sa.Column("metric", sa.String(48), nullable=False),
        sa.Column("grain", sa.Integer(), nullable=False),
        sa.Column("cell", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        # Index-only scans on PostgreSQL; rows in key order on SQLite: a range of cells is read in one sweep.
        sa.PrimaryKeyConstraint("scope_key", "metric", "grain", "cell", postgresql_include=["value"]),
        sqlite_with_rowid=False,
    )
    assert rollups is not None
    reader = op.get_bind()
    totals: dict[tuple[str, str, int, int], int] = defaultdict(int)
    for owner, increments, at in _changes(reader):
        seconds = epoch_seconds(at)
        for scope in owner.scope_keys():
            for metric, amount in increments.items():
                for grain in GRAINS:
                    totals[(scope, metric, grain, cell_of(seconds, grain))] += amount
    rows = [
        {"scope_key": scope, "metric": metric, "grain": grain, "cell": cell, "value": value}
        for (scope, metric, grain, cell), value in totals.items()
        if value
    ]
    for offset in range(0, len(rows), _BATCH):
        op.bulk_insert(rollups, rows[offset : offset + _BATCH])


def downgrade() -> None:
    op.drop_table("metric_rollups")
