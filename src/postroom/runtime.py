"""Composition root: Settings -> engine, migrations, services -> the API application."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI
from sqlalchemy import Engine

from postroom.api.app import create_app
from postroom.config import Settings
from postroom.domain.pagination import PageTokens
from postroom.services.access import PAGE_TOKEN_SECRET_NAME, AccessService, Bootstrap
from postroom.services.api_keys import ApiKeyService
from postroom.services.container import Services
from postroom.services.inboxes import InboxService
from postroom.services.pods import PodService
from postroom.storage.engine import create_database_engine
from postroom.storage.migrate import upgrade
from postroom.storage.uow import SqlUnitOfWorkFactory


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    engine: Engine
    services: Services
    bootstrap: Bootstrap

    def api(self) -> FastAPI:
        return create_app(
            self.services,
            rate_limit_per_second=self.settings.rate_limit_per_second,
            rate_limit_burst=self.settings.rate_limit_burst,
            max_request_bytes=self.settings.max_request_bytes,
            access_log=self.settings.access_log,
        )

    def close(self) -> None:
        self.engine.dispose()


def build(settings: Settings, *, migrate: bool = True) -> Runtime:
    """Open the database (migrating it to the current schema), bootstrap it once, and wire the services."""
    engine = create_database_engine(settings.resolved_database_url())
    if migrate:
        upgrade(engine)
    factory = SqlUnitOfWorkFactory(engine)
    access = AccessService(factory)
    bootstrap = access.bootstrap()
    tokens = PageTokens(access.server_secret(PAGE_TOKEN_SECRET_NAME))
    default_domain = settings.default_domain.strip().lower()
    services = Services(
        access=access,
        inboxes=InboxService(factory, tokens, default_domain),
        pods=PodService(factory, tokens),
        api_keys=ApiKeyService(factory, tokens),
        health=factory,
    )
    return Runtime(settings, engine, services, bootstrap)
