"""Rate limit budgets in this process, in PostgreSQL and in Redis: the limit holds, per key, and is shared by
every instance pointing at the same store (as separate processes do), even under concurrent hits."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import delete

from postroom.api.ratelimit import MemoryRateLimits, RateLimiter
from postroom.errors import RateLimited
from postroom.services.ports import RateLimits
from postroom.storage.engine import create_database_engine
from postroom.storage.migrate import upgrade
from postroom.storage.rate_limits import PostgresRateLimits, RedisRateLimits
from postroom.storage.tables import rate_limits
from tests.support.redis_server import fresh_prefix, redis_url

WINDOW = 600.0  # long enough that no budget refills noticeably while a test runs


@pytest.fixture(params=["memory", "postgres", "redis"])
def two_limits(request: pytest.FixtureRequest) -> Iterator[tuple[RateLimits, RateLimits]]:
    """Two independent handles on one store (one handle twice for memory, which is not shared)."""
    if request.param == "memory":
        memory = MemoryRateLimits()
        yield memory, memory
    elif request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
        engines = [create_database_engine(url), create_database_engine(url)]
        upgrade(engines[0])
        with engines[0].begin() as connection:
            connection.execute(delete(rate_limits))
        yield PostgresRateLimits(engines[0]), PostgresRateLimits(engines[1])
        for engine in engines:
            engine.dispose()
    else:
        prefix = fresh_prefix()
        clients = [RedisRateLimits(redis_url(), prefix), RedisRateLimits(redis_url(), prefix)]
        yield clients[0], clients[1]
        for client in clients:
            client.close()


def test_budget_is_spent_then_refused_with_the_wait(two_limits: tuple[RateLimits, RateLimits]) -> None:
    first, second = two_limits
    assert second.peek("k", 5, WINDOW) == 0.0
    assert [first.hit("k", 5, WINDOW) for _ in range(3)] == [0.0] * 3
    assert [second.hit("k", 5, WINDOW) for _ in range(2)] == [0.0] * 2
    wait = first.hit("k", 5, WINDOW)
    assert 0 < wait <= WINDOW / 5  # one hit comes back after window/limit seconds
    assert second.hit("k", 5, WINDOW) > 0  # a refusal spends nothing, and the budget is shared
    assert 0 < second.peek("k", 5, WINDOW) <= WINDOW / 5  # peeking tells the wait and spends nothing either
    assert first.hit("other", 5, WINDOW) == 0.0  # budgets are per key


def test_concurrent_hits_never_exceed_the_limit(two_limits: tuple[RateLimits, RateLimits]) -> None:
    first, second = two_limits
    with ThreadPoolExecutor(8) as pool:
        waits = list(pool.map(lambda i: (first if i % 2 else second).hit("busy", 10, WINDOW), range(40)))
    assert sum(1 for wait in waits if wait == 0.0) == 10


def test_api_key_limiter_over_a_shared_store(two_limits: tuple[RateLimits, RateLimits]) -> None:
    first, second = two_limits
    burst = 4
    limiters = [RateLimiter(burst / WINDOW, burst, limits=first), RateLimiter(burst / WINDOW, burst, limits=second)]
    for index in range(burst):
        limiters[index % 2].acquire("key_1")
    with pytest.raises(RateLimited) as refused:
        limiters[1].acquire("key_1")
    assert 1 <= refused.value.retry_after <= WINDOW / burst + 1
    assert limiters[0].wait("key_1") > 0
    assert limiters[0].wait("key_2") == 0.0
