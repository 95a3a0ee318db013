"""Per-API-key rate limiting (spec §8: 50 requests/s sustained, burst 200 by default) over a ``RateLimits``.

``MemoryRateLimits`` keeps the budgets in this process (one-process deployments, SQLite); several processes share
theirs through PostgreSQL or Redis (``postroom.storage.rate_limits``). All use the same GCRA arithmetic: one
"theoretical arrival time" per key.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from postroom.errors import RateLimited
from postroom.services.ports import RateLimits


class MemoryRateLimits:
    """The ``RateLimits`` port held in this process; forgets every key when it holds ``max_keys``."""

    def __init__(self, max_keys: int = 100_000, seconds: Callable[[], float] = time.monotonic) -> None:
        self._seconds = seconds  # a monotonic clock in seconds; tests pass their own
        self._max_keys = max_keys
        self._arrivals: dict[str, float] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, limit: int, window_seconds: float) -> float:
        interval = window_seconds / limit
        now = self._seconds()
        with self._lock:
            arrival = max(self._arrivals.get(key, now), now) + interval
            if arrival - now > window_seconds + 1e-9:
                return arrival - now - window_seconds
            if key not in self._arrivals and len(self._arrivals) >= self._max_keys:
                self._arrivals.clear()
            self._arrivals[key] = arrival
        return 0.0


class RateLimiter:
    """The per-key limit of the API: ``burst`` requests at once, refilled at ``rate_per_second``."""

    def __init__(
        self,
        rate_per_second: float,
        burst: int,
        max_keys: int = 100_000,
        seconds: Callable[[], float] = time.monotonic,
        limits: RateLimits | None = None,
    ) -> None:
        self._rate = rate_per_second
        self._burst = max(1, burst)
        self._limits = limits if limits is not None else MemoryRateLimits(max_keys, seconds)

    def acquire(self, key: str) -> None:
        """Take one request for ``key`` or raise RateLimited with the seconds until one is available."""
        if self._rate <= 0:
            return
        wait = self._limits.hit(f"api-key:{key}", self._burst, self._burst / self._rate)
        if wait > 0:
            raise RateLimited(max(1, math.ceil(wait)))
