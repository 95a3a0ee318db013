"""The scheduled-draft ticker: a loop of its own that sends the drafts whose ``send_at`` has passed.

It looks once per interval; the sending itself (claiming, leases, retries after a crash) is ``DraftService``'s.
"""

from __future__ import annotations

import asyncio
import logging

from postroom.services.drafts.drafts import DraftService

log = logging.getLogger("postroom.drafts")


class ScheduledDraftTicker:
    def __init__(self, drafts: DraftService, interval_seconds: float) -> None:
        self._drafts = drafts
        self._interval = interval_seconds

    async def run(self) -> None:
        while True:
            try:
                await asyncio.to_thread(self._drafts.send_due)
            except Exception:
                log.exception("sending due scheduled drafts failed; trying again at the next tick")
            await asyncio.sleep(self._interval)
