"""The per-address limit on failed authentications is one budget for every API process sharing a store: two
runtimes on one PostgreSQL database, and two with Redis, spend it together; the keys seen working stay per process."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from postroom.runtime import Runtime, build
from postroom.storage.rate_limits import PostgresRateLimits, RedisRateLimits
from tests.conftest import make_settings
from tests.support.redis_server import fresh_prefix, redis_url

BURST = 3  # failures from one address, one more every 10 s
ADDRESS = ("192.0.2.10", 40000)  # a label for TestClient; nothing is sent anywhere
WRONG = {"Authorization": "Bearer pr_wrong"}


@pytest.fixture(params=["postgres", "redis"])
def two_processes(
    request: pytest.FixtureRequest, database_url: str, tmp_path: Path
) -> Iterator[tuple[Runtime, Runtime]]:
    url = database_url  # migrated and emptied, rate_limits included
    extra = {"redis_url": redis_url()} if request.param == "redis" else {}
    settings = make_settings(url, tmp_path, auth_failures_per_minute=6, auth_failure_burst=BURST, **extra)
    runtimes = [build(settings, migrate=False), build(settings, migrate=False)]
    stores: list[RedisRateLimits] = []
    if request.param == "redis":
        assert all(isinstance(runtime.rate_limits, RedisRateLimits) for runtime in runtimes)
        prefix = fresh_prefix()  # this test's own keys in a Redis that outlives it
        stores = [RedisRateLimits(redis_url(), prefix), RedisRateLimits(redis_url(), prefix)]
        pair = (
            dataclasses.replace(runtimes[0], rate_limits=stores[0]),
            dataclasses.replace(runtimes[1], rate_limits=stores[1]),
        )
    else:
        assert all(isinstance(runtime.rate_limits, PostgresRateLimits) for runtime in runtimes)
        pair = (runtimes[0], runtimes[1])
    yield pair
    for store in stores:
        store.close()
    for runtime in runtimes:
        runtime.close()


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_failures_spread_over_two_processes_use_up_one_budget(two_processes: tuple[Runtime, Runtime]) -> None:
    first, second = two_processes
    good = {"Authorization": f"Bearer {first.bootstrap.api_key}"}
    one = TestClient(first.api(), raise_server_exceptions=False, client=ADDRESS)
    other = TestClient(second.api(), raise_server_exceptions=False, client=ADDRESS)
    with one, other:
        assert one.get("/v0/inboxes", headers=good).status_code == 200  # the first process has seen this key work
        answers = [client.get("/v0/inboxes", headers=WRONG).status_code for client in (one, other, one)]
        assert answers == [401] * BURST
        for client in (other, one):
            refused = client.get("/v0/inboxes", headers=WRONG)
            assert refused.status_code == 429, refused.text
            assert refused.json()["message"] == "Too many failed authentications from this address"
        # Another address has its own budget on either process.
        stranger = TestClient(second.api(), raise_server_exceptions=False, client=("192.0.2.11", 40000))
        with stranger:
            assert stranger.get("/v0/inboxes", headers=WRONG).status_code == 401
        # The keys seen working are per process: the first lets the good key through from the locked-out address,
        # the second, which has not seen it succeed, refuses it there until the address earns a failure back.
        assert one.get("/v0/inboxes", headers=good).status_code == 200
        assert other.get("/v0/inboxes", headers=good).status_code == 429
