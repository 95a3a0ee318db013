"""Where a route's read of one row runs: on the event loop when the database is a local SQLite file, else a thread.

A primary-key read of SQLite in WAL mode never waits for a writer and takes well under a millisecond, less than the
hop to the threadpool and back; 32 threads taking turns at the GIL for such reads cost twice the CPU per request. A
read of PostgreSQL waits on the network, so it keeps to the threadpool. Only bounded reads belong here: one row by
id, never a list or a search.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

T = TypeVar("T")


async def point_read(request: Request, read: Callable[[], T]) -> T:
    if request.app.state.point_reads_on_event_loop:
        return read()
    return await run_in_threadpool(read)
