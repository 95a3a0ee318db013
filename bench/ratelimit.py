"""Per-check latency of the rate limit stores: this process's memory, PostgreSQL (UNLOGGED upsert) and Redis (Lua).

One check is what every authenticated API request pays. Measured from 1 thread and from 8 threads (the API's
threadpool checks in parallel), on one hot key and on many keys, each store beside the in-memory baseline measured
in the same run. Needs PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379. Prints figures, never asserts.
Run from the repository root: ``.venv/bin/python bench/ratelimit.py [--checks N]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.databases import postgres_database  # noqa: E402
from tests.support.redis_server import fresh_prefix  # noqa: E402

from postroom.api.ratelimit import MemoryRateLimits  # noqa: E402
from postroom.services.ports import RateLimits  # noqa: E402
from postroom.storage.engine import create_database_engine  # noqa: E402
from postroom.storage.migrate import upgrade  # noqa: E402
from postroom.storage.rate_limits import PostgresRateLimits, RedisRateLimits  # noqa: E402

LIMIT, WINDOW = 10**9, 1.0  # never refuses: the cost of an allowed check, the common case


def measure(limits: RateLimits, checks: int, threads: int, keys: int) -> tuple[float, float, float]:
    """(checks per second, p50 ms, p99 ms) over ``checks`` checks spread over ``threads`` threads."""

    def one(index: int) -> float:
        started = time.perf_counter()
        limits.hit(f"key-{index % keys}", LIMIT, WINDOW)
        return time.perf_counter() - started

    for index in range(min(200, checks)):  # warm connections and caches
        one(index)
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        latencies = sorted(pool.map(one, range(checks)))
    elapsed = time.perf_counter() - started
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    return checks / elapsed, p50, p99


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--checks", type=int, default=5000)
    args = parser.parse_args()
    with postgres_database() as url:
        engine = create_database_engine(url)
        upgrade(engine)
        redis_limits = RedisRateLimits("redis://127.0.0.1:6379/0", fresh_prefix())
        stores: list[tuple[str, Callable[[], RateLimits]]] = [
            ("memory (baseline)", MemoryRateLimits),
            ("postgresql", lambda: PostgresRateLimits(engine)),
            ("redis", lambda: redis_limits),
        ]
        print(f"{'store':<18} {'threads':>7} {'keys':>6} {'checks/s':>10} {'p50 ms':>8} {'p99 ms':>8}")
        for name, make in stores:
            for threads, keys in ((1, 1), (8, 1), (8, 1000)):
                rate, p50, p99 = measure(make(), args.checks, threads, keys)
                print(f"{name:<18} {threads:>7} {keys:>6} {rate:>10.0f} {p50:>8.3f} {p99:>8.3f}")
        redis_limits.close()
        engine.dispose()


if __name__ == "__main__":
    main()
