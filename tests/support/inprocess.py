"""Runs a ``Runtime`` (API, SMTP and workers, as ``postroom serve`` does) on a thread of this test process.

For tests that need the server's clock in their hands (``build(settings, clock=TestClock())``); a separate
process (tests/support/server.py) stays the choice for crash and signal tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator

import httpx

from postroom.runtime import Runtime

START_DEADLINE = 30.0


@contextlib.contextmanager
def serving(runtime: Runtime) -> Iterator[str]:
    """Serve until the block ends; yields the API's base URL once ``/healthz`` answers."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    stop = asyncio.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        started.set()
        loop.run_until_complete(runtime.serve(stop))
        loop.close()

    thread = threading.Thread(target=run, name="postroom-in-process", daemon=True)
    thread.start()
    started.wait()
    base_url = f"http://{runtime.settings.api_host}:{runtime.settings.api_port}"
    try:
        _wait_until_healthy(base_url, thread)
        yield base_url
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(START_DEADLINE)


def _wait_until_healthy(base_url: str, thread: threading.Thread) -> None:
    deadline = time.monotonic() + START_DEADLINE
    while time.monotonic() < deadline:
        if not thread.is_alive():
            raise RuntimeError("the in-process server stopped while starting")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        time.sleep(0.05)
    raise RuntimeError("the in-process server did not start")
