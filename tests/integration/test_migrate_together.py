"""Processes that start together on one PostgreSQL database all migrate it: one applies the migrations while
the others wait on its advisory lock, then find the schema current (none fails on a table created meanwhile)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import inspect

from postroom.storage.engine import create_database_engine
from postroom.storage.migrate import upgrade
from tests.support.databases import postgres_database


def test_concurrent_upgrades_of_a_fresh_database_all_succeed() -> None:
    with postgres_database() as url:
        engines = [create_database_engine(url) for _ in range(3)]
        try:
            with ThreadPoolExecutor(len(engines)) as pool:
                list(pool.map(upgrade, engines))  # re-raises a failure of any of them
            tables = set(inspect(engines[0]).get_table_names())
            assert {"alembic_version", "messages", "rate_limits"} <= tables
        finally:
            for engine in engines:
                engine.dispose()
