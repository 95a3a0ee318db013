"""A bound on how long statements may hold the database: PostgreSQL's statement_timeout, a SQLite progress handler.

A statement stopped at the bound raises ``ServiceUnavailable`` and the transaction is left for the caller to roll
back; nothing it did is kept.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError

from postroom.errors import ServiceUnavailable

QUERY_CANCELED = "57014"  # PostgreSQL's SQLSTATE for a statement stopped by statement_timeout
SQLITE_CHECK_EVERY = 1000  # virtual machine instructions between two looks at the clock


def _stopped(seconds: float, what: str) -> ServiceUnavailable:
    return ServiceUnavailable(
        f"The {what} took longer than {seconds:g} s and was stopped",
        fix="Use rarer or longer words, or narrow the time window with after/before.",
    )


@contextmanager
def bounded(connection: Connection, seconds: float, what: str) -> Iterator[None]:
    """Statements run inside stop after ``seconds``: each statement on PostgreSQL, the whole block on SQLite."""
    if connection.dialect.name == "postgresql":
        with _postgres_bound(connection, seconds, what):
            yield
        return
    with _sqlite_bound(connection, seconds, what):
        yield


@contextmanager
def _postgres_bound(connection: Connection, seconds: float, what: str) -> Iterator[None]:
    connection.exec_driver_sql(f"SET LOCAL statement_timeout = {max(1, round(seconds * 1000))}")
    try:
        yield
    except OperationalError as error:
        if getattr(error.orig, "sqlstate", None) == QUERY_CANCELED:
            raise _stopped(seconds, what) from error
        raise
    connection.exec_driver_sql("SET LOCAL statement_timeout = DEFAULT")


@contextmanager
def _sqlite_bound(connection: Connection, seconds: float, what: str) -> Iterator[None]:
    deadline = time.monotonic() + seconds
    raw: Any = connection.connection.driver_connection
    assert isinstance(raw, sqlite3.Connection)
    raw.set_progress_handler(lambda: int(time.monotonic() > deadline), SQLITE_CHECK_EVERY)
    try:
        yield
    except OperationalError as error:
        if "interrupted" in str(error.orig) and time.monotonic() > deadline:
            raise _stopped(seconds, what) from error
        raise
    finally:
        raw.set_progress_handler(None, 0)
