"""Applies the Alembic migrations to a database (on `postroom serve` and `postroom migrate`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


def upgrade(engine: Engine) -> None:
    config = alembic_config(engine)
    with engine.connect() as connection:
        connection.info["postroom_write"] = True
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        connection.commit()
