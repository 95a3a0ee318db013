"""The domain checker: a loop of its own that verifies every custom domain whose next check is due.

When checks happen is the domains' business (``next_check_at`` in the database, see domain/custom_domains.py), so
several processes can run this loop: each claims due domains under a lease. It looks once per interval, and goes
on at once while it keeps finding a full batch.
"""

from __future__ import annotations

import asyncio
import logging

from postroom.services.domains.verification import DomainVerifier

log = logging.getLogger("postroom.domains")
BATCH = 20


class DomainCheckTicker:
    def __init__(self, verifier: DomainVerifier, interval_seconds: float) -> None:
        self._verifier = verifier
        self._interval = interval_seconds

    async def run(self) -> None:
        while True:
            try:
                while await asyncio.to_thread(self._verifier.check_due, BATCH) == BATCH:
                    pass
            except Exception:
                log.exception("checking due domains failed; trying again at the next tick")
            await asyncio.sleep(self._interval)
