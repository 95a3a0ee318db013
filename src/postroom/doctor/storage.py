"""Checks of the stores: the database answers, its schema is at the newest migration, the blob store round-trips."""

from __future__ import annotations

import secrets

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from postroom.config import Settings
from postroom.doctor.report import Check, Status, first_line
from postroom.storage.blobs.factory import blob_store_from_url
from postroom.storage.migrate import alembic_config

PROBE = b"postroom doctor probe\n"


def check_database(engine: Engine) -> list[Check]:
    """The database connection, then whether every migration is applied."""
    where = engine.url.render_as_string(hide_password=True)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = set(MigrationContext.configure(connection).get_current_heads())
    except Exception as error:
        return [
            Check("database", Status.FAIL, f"{where} does not answer: {first_line(error)}"),
            Check("migrations", Status.FAIL, "not checked: the database does not answer"),
        ]
    heads = set(ScriptDirectory.from_config(alembic_config(engine)).get_heads())
    database = Check("database", Status.OK, f"{engine.dialect.name} at {where} answers")
    if current == heads:
        return [database, Check("migrations", Status.OK, f"at the newest migration ({', '.join(sorted(heads))})")]
    found = f"at {', '.join(sorted(current))}" if current else "not migrated"
    detail = f"{found}, the newest migration is {', '.join(sorted(heads))}: run `postroom migrate`"
    return [database, Check("migrations", Status.FAIL, detail)]


def check_blobs(settings: Settings) -> Check:
    """Write a small blob, read it back and delete it, where the server keeps message bytes."""
    where = settings.blob_url or f"files under {settings.data_dir / 'blobs'}"
    try:
        store = blob_store_from_url(settings.blob_url, settings.data_dir, **settings.s3_options())
        key = f"doctor/{secrets.token_hex(8)}"
        store.put(key, [PROBE])
        try:
            with store.open(key) as stream:
                read = stream.read()
        finally:
            store.delete(key)
        gone = store.size(key) is None
    except Exception as error:
        return Check("blob store", Status.FAIL, f"{where}: {first_line(error)}")
    if read != PROBE:
        return Check("blob store", Status.FAIL, f"{where}: a blob read back differs from what was written")
    if not gone:
        return Check("blob store", Status.FAIL, f"{where}: a deleted blob is still there")
    return Check("blob store", Status.OK, f"{where}: wrote, read back and deleted a blob")
