"""Connection-pool use as a gauge: every checkout and checkin of the engine's pool moves it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, event

from postroom.observability.collectors import DATABASE_CONNECTIONS_IN_USE, DATABASE_POOL_SIZE


def watch_pool(engine: Engine) -> None:
    def checked_out(*_: Any) -> None:
        DATABASE_CONNECTIONS_IN_USE.inc()

    def checked_in(*_: Any) -> None:
        DATABASE_CONNECTIONS_IN_USE.dec()

    size = getattr(engine.pool, "size", None)
    if callable(size):
        DATABASE_POOL_SIZE.inc(size())
    event.listen(engine, "checkout", checked_out)
    event.listen(engine, "checkin", checked_in)
