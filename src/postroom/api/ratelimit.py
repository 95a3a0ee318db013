"""Per-API-key token buckets held in this process (spec §8: 50 requests/s sustained, burst 200 by default)."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from postroom.errors import RateLimited


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(
        self,
        rate_per_second: float,
        burst: int,
        max_keys: int = 100_000,
        seconds: Callable[[], float] = time.monotonic,
    ) -> None:
        self._seconds = seconds  # a monotonic clock in seconds; tests pass their own
        self._rate = rate_per_second
        self._burst = float(burst)
        self._max_keys = max_keys
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def acquire(self, key: str) -> None:
        """Take one token for ``key`` or raise RateLimited with the seconds until one is available."""
        if self._rate <= 0:
            return
        now = self._seconds()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= self._max_keys:
                    self._buckets.clear()
                bucket = self._buckets[key] = _Bucket(self._burst, now)
            bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.updated) * self._rate)
            bucket.updated = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return
            wait = (1 - bucket.tokens) / self._rate
        raise RateLimited(math.ceil(wait))
