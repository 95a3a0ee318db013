"""Test databases: a SQLite file per use, and a PostgreSQL database created and dropped by each run."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

POSTGRES_ADMIN_DSN = os.environ.get(
    "POSTROOM_TEST_POSTGRES_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
)
POSTGRES_URL_BASE = os.environ.get("POSTROOM_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432")


def postgres_required() -> bool:
    return os.environ.get("POSTROOM_TEST_POSTGRES", "").lower() == "required"


def postgres_reachable() -> bool:
    try:
        with psycopg.connect(POSTGRES_ADMIN_DSN, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def skip_or_fail_without_postgres() -> None:
    if postgres_reachable():
        return
    message = "PostgreSQL is not reachable at 127.0.0.1:5432"
    if postgres_required():
        pytest.fail(f"{message} and POSTROOM_TEST_POSTGRES=required")
    pytest.skip(message)


@contextmanager
def postgres_database() -> Iterator[str]:
    """Create a fresh database for this run, yield its SQLAlchemy URL, and drop it afterwards."""
    skip_or_fail_without_postgres()
    name = f"postroom_test_{secrets.token_hex(6)}"
    with psycopg.connect(POSTGRES_ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES_URL_BASE}/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
