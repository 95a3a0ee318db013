"""Metrics API latency over the rollups of an organization with a million messages (bulk-loaded rollup rows).

Prints p50/p99 wall time of the queries (and the p50 CPU time of this process: on SQLite that is the whole query)
beside a ``SELECT 1`` round trip measured in the same run; never asserts timings.
Run from the repository root: ``.venv/bin/python bench/metrics.py [--backend sqlite|postgres|both]``.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from sqlalchemy import Engine, insert, text

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from postroom.clock import SystemClock  # noqa: E402
from postroom.domain.access import Principal  # noqa: E402
from postroom.domain.metrics import (  # noqa: E402
    HOUR,
    METRIC_EVENT_TYPES,
    MINUTE,
    RATE_RECIPIENTS,
    SENT_RECIPIENTS,
    MetricOwner,
    cell_of,
    epoch_seconds,
    organization_key,
)
from postroom.services.metrics.queries import MetricsQuery, MetricsService  # noqa: E402
from postroom.storage.engine import create_database_engine  # noqa: E402
from postroom.storage.migrate import upgrade  # noqa: E402
from postroom.storage.tables import metric_rollups  # noqa: E402
from postroom.storage.uow import SqlUnitOfWorkFactory  # noqa: E402

POSTGRES_ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
POSTGRES_URL_BASE = "postgresql+psycopg://postgres@127.0.0.1:5432"
MESSAGES = 1_000_000
DAYS = 90
PODS, INBOXES_PER_POD = 2, 5
REPEAT = 50
BATCH = 20_000
ORGANIZATION = "org_bench"
# Per message: what the rollups count (received split by verdict, sends and their outcomes, usage changes).
SHARES = {
    "message.received": 0.40,
    "message.received.unauthenticated": 0.06,
    "message.received.spam": 0.03,
    "message.received.blocked": 0.01,
    "message.sent": 0.50,
    "message.delivered": 0.48,
    "message.bounced": 0.02,
    SENT_RECIPIENTS: 0.60,
    RATE_RECIPIENTS["bounce"]: 0.02,
    "message_count": 1.0,
    "thread_count": 0.4,
    "storage_bytes": 20_000.0,
}


def owners() -> list[MetricOwner]:
    return [
        MetricOwner(ORGANIZATION, f"pod_bench{p}", f"agent{p}-{i}@bench.localhost")
        for p in range(PODS)
        for i in range(INBOXES_PER_POD)
    ]


def rollup_rows(now: datetime) -> Iterator[dict[str, object]]:
    """Hour cells over 90 days for every scope, and minute cells over the last day (what queries near now read)."""
    inboxes = owners()
    per_hour = MESSAGES / (DAYS * 24) / len(inboxes)
    first_hour = cell_of(epoch_seconds(now - timedelta(days=DAYS)), HOUR)
    last_minute = cell_of(epoch_seconds(now), MINUTE)
    cells = [(HOUR, first_hour + HOUR * n, per_hour) for n in range(DAYS * 24 + 1)]
    cells += [(MINUTE, last_minute - MINUTE * n, per_hour / 60) for n in range(24 * 60)]
    scopes: dict[str, int] = {}
    for owner in inboxes:
        for key in owner.scope_keys():
            scopes[key] = scopes.get(key, 0) + 1
    for grain, cell, amount in cells:
        for scope, weight in scopes.items():
            for metric, share in SHARES.items():
                yield {
                    "scope_key": scope,
                    "metric": metric,
                    "grain": grain,
                    "cell": cell,
                    "value": max(1, math.floor(amount * share * weight)),
                }


def load(engine: Engine, now: datetime) -> int:
    count = 0
    batch: list[dict[str, object]] = []
    with engine.begin() as connection:
        for row in rollup_rows(now):
            batch.append(row)
            if len(batch) == BATCH:
                connection.execute(insert(metric_rollups), batch)
                count += len(batch)
                batch = []
        if batch:
            connection.execute(insert(metric_rollups), batch)
            count += len(batch)
    if engine.dialect.name == "postgresql":  # what autovacuum does to a table after many inserts
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE metric_rollups"))
    return count


def timed(action: Callable[[], object]) -> tuple[float, float, float]:
    """p50 and p99 wall time, and p50 CPU time of this process (less sensitive to a machine shared with others)."""
    action()  # warm the caches and the connection pool
    samples, cpu = [], []
    for _ in range(REPEAT):
        began, began_cpu = time.perf_counter(), time.process_time()
        action()
        samples.append((time.perf_counter() - began) * 1000)
        cpu.append((time.process_time() - began_cpu) * 1000)
    samples.sort()
    p99 = samples[min(len(samples) - 1, math.ceil(0.99 * len(samples)) - 1)]
    return statistics.median(samples), p99, statistics.median(cpu)


@contextlib.contextmanager
def database(backend: str) -> Iterator[str]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as directory:
            yield f"sqlite:///{directory}/metrics.db"
        return
    name = f"postroom_bench_{secrets.token_hex(4)}"
    with psycopg.connect(POSTGRES_ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES_URL_BASE}/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(backend: str) -> None:
    with database(backend) as url:
        engine = create_database_engine(url)
        upgrade(engine)
        now = datetime.now(UTC)
        began = time.perf_counter()
        rows = load(engine, now)
        loaded = time.perf_counter() - began
        print(f"\n[{backend}] {rows:,} rollup rows for {MESSAGES:,} messages loaded in {loaded:.1f} s")
        factory = SqlUnitOfWorkFactory(engine)
        service = MetricsService(factory, SystemClock())
        caller = Principal("key_bench", ORGANIZATION, None, None, None, None, frozenset({"metrics_read"}))
        key = organization_key(ORGANIZATION)
        start = now - timedelta(days=DAYS) + timedelta(minutes=10)  # the bench runs for minutes: stay inside 90 d
        types = list(METRIC_EVENT_TYPES)

        def raw_90_days_hourly() -> object:
            with factory() as uow:
                first = cell_of(epoch_seconds(start), HOUR)
                return uow.metrics.bucket_sums(key, types, HOUR, first, epoch_seconds(now), HOUR)

        def select_one() -> object:
            with engine.connect() as connection:
                return connection.execute(text("SELECT 1")).scalar()

        def thirds() -> object:
            return [
                service.events(
                    caller,
                    MetricsQuery(
                        start=start + timedelta(days=30 * n), end=start + timedelta(days=30 * (n + 1)), period=HOUR
                    ),
                )
                for n in range(3)
            ]

        cases: list[tuple[str, Callable[[], object]]] = [
            ("baseline: SELECT 1 round trip", select_one),
            ("events, 90 d at 1 h (2,160 buckets x 10 types; storage query)", raw_90_days_hourly),
            ("events, 90 d at 1 h as three API queries of 30 d (720 buckets each)", thirds),
            (
                "events, 30 d at 1 h (API)",
                lambda: service.events(caller, MetricsQuery(start=now - timedelta(days=30), period=HOUR)),
            ),
            ("events, 90 d at 3 h (API)", lambda: service.events(caller, MetricsQuery(start=start, period=3 * HOUR))),
            (
                "events, last 16 h, raw minutes (API)",
                lambda: service.events(caller, MetricsQuery(start=now - timedelta(hours=16))),
            ),
            ("usage, 90 d at 3 h (API)", lambda: service.usage(caller, MetricsQuery(start=start, period=3 * HOUR))),
            (
                "rates, 90 d at 3 h, 1 d window (API)",
                lambda: service.rates(caller, MetricsQuery(start=start, period=3 * HOUR)),
            ),
            ("rates, default (24 h sampled hourly)", lambda: service.rates(caller, MetricsQuery())),
        ]
        print(f"{'query':72} {'p50 ms':>8} {'p99 ms':>8} {'cpu p50':>8}")
        for name, action in cases:
            p50, p99, cpu = timed(action)
            print(f"{name:72} {p50:8.1f} {p99:8.1f} {cpu:8.1f}")
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    backends = ["sqlite", "postgres"] if parser.parse_args().backend == "both" else [parser.parse_args().backend]
    for backend in backends:
        run(backend)


if __name__ == "__main__":
    main()
