"""Alembic environment: runs migrations on the connection handed over by ``postroom.storage.migrate``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from postroom.storage.tables import metadata

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("run migrations through `postroom migrate`, which supplies the database connection")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
