"""Runs every doctor check against the deployment the settings describe, in an order where later checks can
rely on earlier ones (domain records need the database for the DKIM keys and the custom domains)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from postroom.config import Settings
from postroom.doctor.network import check_certificate, check_port
from postroom.doctor.records import check_domains, check_resolution
from postroom.doctor.report import Check, Status, first_line
from postroom.doctor.storage import check_blobs, check_database
from postroom.services.ports import Clock
from postroom.storage.engine import create_database_engine
from postroom.storage.uow import SqlUnitOfWorkFactory


def missing_sqlite_file(url: str) -> Path | None:
    """The SQLite file a URL names when it does not exist (opening it would create an empty database)."""
    parsed = make_url(url)
    name = parsed.database
    if parsed.get_backend_name() != "sqlite" or not name or name == ":memory:" or name.startswith("file:"):
        return None
    path = Path(name).expanduser()
    return None if path.exists() else path


def run_checks(settings: Settings, clock: Clock) -> list[Check]:
    engine: Engine | None = None
    factory: SqlUnitOfWorkFactory | None = None
    url = settings.resolved_database_url()
    missing = missing_sqlite_file(url)
    try:
        if missing is not None:
            raise FileNotFoundError(
                f"no SQLite database at {missing}: check POSTROOM_DATA_DIR, or run `postroom migrate`"
            )
        engine = create_database_engine(url)
    except Exception as error:
        checks = [Check("database", Status.FAIL, f"POSTROOM_DATABASE_URL: {first_line(error)}")]
    else:
        checks = check_database(engine)
        if all(check.status is Status.OK for check in checks):
            factory = SqlUnitOfWorkFactory(engine)
    try:
        checks.append(check_blobs(settings))
        resolution = check_resolution(settings)
        checks.append(resolution)
        if resolution.status is Status.OK:
            checks += check_domains(settings, factory, clock)
        checks.append(check_port("API", settings.api_host, settings.api_port))
        checks.append(check_port("SMTP", settings.smtp_host, settings.smtp_port))
        checks.append(check_certificate(settings, clock.now()))
    finally:
        if engine is not None:
            engine.dispose()
    return checks
