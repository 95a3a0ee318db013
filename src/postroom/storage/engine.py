"""Database engines: SQLite (WAL, foreign keys, write transactions that lock up front) or PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url

WRITE_FLAG = "postroom_write"
NO_SNAPSHOT_FLAG = "postroom_no_snapshot"


def _json(value: object) -> str:
    # Non-ASCII stays readable in JSON columns, so substring filters match "José" as written.
    return json.dumps(value, ensure_ascii=False)


def _prepare_sqlite_file(url: str) -> None:
    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from pysqlite so that writes can BEGIN IMMEDIATE (no lock-upgrade deadlocks).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # The flag is taken here, so it covers the one transaction it was set for and never a later user of this
        # pooled connection. Each SELECT in autocommit mode reads its own snapshot, all such a reader asks for.
        if connection.info.pop(NO_SNAPSHOT_FLAG, False):
            return
        immediate = connection.info.get(WRITE_FLAG, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def create_database_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        _prepare_sqlite_file(url)
        # Room for the API's 40 worker threads, the event loop's reads (api/point_reads.py) and the SMTP and worker
        # threads, so a busy API does not open and close a connection (and run the PRAGMAs above) per request.
        engine = create_engine(url, pool_size=48, max_overflow=20, json_serializer=_json)
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_size=20, max_overflow=20, pool_pre_ping=True, json_serializer=_json)
