"""Shared fixtures: every storage and API test runs on SQLite and on PostgreSQL (a database per run)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete

from postroom.config import Settings
from postroom.runtime import Runtime, build
from postroom.storage.engine import create_database_engine
from postroom.storage.migrate import upgrade
from postroom.storage.tables import metadata
from tests.support.clock import TestClock
from tests.support.databases import postgres_database
from tests.support.sender_dns import sender_dns

BACKENDS = ["sqlite", "postgres"]
pytest_plugins = ["tests.support.log_secrets"]  # fails the run if any log line holds a secret it created


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'postroom.db'}"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with postgres_database() as url:
        yield url


_migrated: set[str] = set()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest) -> str:
    """A migrated, emptied database on each backend."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    engine = create_database_engine(url)
    try:
        if url not in _migrated:
            upgrade(engine)
            _migrated.add(url)
        with engine.begin() as connection:
            for table in reversed(metadata.sorted_tables):
                connection.execute(delete(table))
    finally:
        engine.dispose()
    return url


def make_settings(database_url: str, data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "data_dir": data_dir,
        "rate_limit_per_second": 100000.0,
        "rate_limit_burst": 100000,
        "auth_failure_burst": 100000,
        "access_log": False,
        "dns_servers": sender_dns().address,  # never the system's resolver: no lookup leaves the machine
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def clock() -> TestClock:
    """The clock of the ``runtime`` fixture: real time, moved forward by ``clock.advance(...)``."""
    return TestClock()


@pytest.fixture
def runtime(database_url: str, tmp_path: Path, clock: TestClock) -> Iterator[Runtime]:
    rt = build(make_settings(database_url, tmp_path), migrate=False, clock=clock)
    yield rt
    rt.close()


@pytest.fixture
def root_key(runtime: Runtime) -> str:
    assert runtime.bootstrap.api_key is not None
    return runtime.bootstrap.api_key


@pytest.fixture
def client(runtime: Runtime, root_key: str) -> Iterator[TestClient]:
    """An in-process HTTP client authenticated with the bootstrap (unrestricted organization) key."""
    with TestClient(runtime.api(), raise_server_exceptions=False) as test_client:
        test_client.headers["Authorization"] = f"Bearer {root_key}"
        yield test_client
