"""PostgreSQL LISTEN: hears the outbox rows other processes commit (their NOTIFY), so every process wakes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import psycopg
from sqlalchemy.engine import make_url

from postroom.storage.events import NOTIFY_CHANNEL

log = logging.getLogger("postroom.events")
RECONNECT_SECONDS = 1.0


def _conninfo(database_url: str) -> str:
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


async def listen_for_outbox(database_url: str, on_events: Callable[[list[str]], None]) -> None:
    """Run until cancelled: call ``on_events`` (on this loop) with the ids of outbox rows committed anywhere.

    After every (re)connection it calls ``on_events([])`` so the caller polls for rows committed while deaf.
    """
    while True:
        try:
            connection = await psycopg.AsyncConnection.connect(_conninfo(database_url), autocommit=True)
            async with connection:
                await connection.execute(f"LISTEN {NOTIFY_CHANNEL}")
                on_events([])
                async for notice in connection.notifies():
                    on_events([notice.payload])
        except psycopg.Error as error:
            log.warning("outbox LISTEN connection lost (%s); reconnecting", error)
            await asyncio.sleep(RECONNECT_SECONDS)
