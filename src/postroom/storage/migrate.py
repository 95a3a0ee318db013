"""Applies the Alembic migrations to a database (on `postroom serve` and `postroom migrate`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, text

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK = 0x706F7374726F6F6D  # "postroom": the PostgreSQL advisory lock held while migrating


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema to head. On PostgreSQL one process migrates at a time (processes starting together, or
    ``postroom migrate`` beside them): the others wait for it and then find the schema current."""
    config = alembic_config(engine)
    with engine.connect() as connection:
        connection.info["postroom_write"] = True
        _advisory_lock(connection, "pg_advisory_lock")
        try:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            connection.commit()
        finally:
            _advisory_lock(connection, "pg_advisory_unlock")


def _advisory_lock(connection: Connection, function: str) -> None:
    if connection.dialect.name == "postgresql":
        connection.rollback()  # a failed migration leaves its transaction aborted; the lock is the session's
        connection.execute(text(f"SELECT {function}(:key)"), {"key": MIGRATION_LOCK})
        connection.commit()
