"""Runs every doctor check against the deployment the settings describe, in an order where later checks can
rely on earlier ones (domain records need the database for the DKIM keys and the custom domains)."""

from __future__ import annotations

from sqlalchemy import Engine

from postroom.config import Settings
from postroom.doctor.network import check_certificate, check_port
from postroom.doctor.records import check_domains, check_resolution
from postroom.doctor.report import Check, Status, first_line
from postroom.doctor.storage import check_blobs, check_database
from postroom.services.ports import Clock
from postroom.storage.engine import create_database_engine
from postroom.storage.uow import SqlUnitOfWorkFactory


def run_checks(settings: Settings, clock: Clock) -> list[Check]:
    engine: Engine | None = None
    factory: SqlUnitOfWorkFactory | None = None
    try:
        engine = create_database_engine(settings.resolved_database_url())
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
