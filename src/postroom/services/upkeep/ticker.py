"""The retention loop: one sweep per interval, each batch in a worker thread of its own.

Going back to the event loop between batches lets the SMTP server and the API take the database's write lock
(SQLite) between two batches instead of waiting for a whole sweep.
"""

from __future__ import annotations

import asyncio
import logging

from postroom.services.upkeep.retention import RetentionService

log = logging.getLogger("postroom.retention")


class RetentionTicker:
    def __init__(self, retention: RetentionService, interval_seconds: float) -> None:
        self._retention = retention
        self._interval = interval_seconds

    async def sweep(self) -> dict[str, int]:
        deleted: dict[str, int] = {}
        for step in self._retention.plan():
            deleted[step.name] = 0
            while True:
                count = await asyncio.to_thread(step.run)
                deleted[step.name] += count
                if count < self._retention.policy.batch_size:
                    break
        return deleted

    async def run(self) -> None:
        while True:
            try:
                deleted = await self.sweep()
            except Exception:
                log.exception("the retention sweep failed; trying again at the next tick")
            else:
                if any(deleted.values()):
                    log.info("retention deleted %s", ", ".join(f"{n} {name}" for name, n in deleted.items() if n))
            await asyncio.sleep(self._interval)
