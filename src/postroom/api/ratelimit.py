"""Token buckets held in this process: per API key (spec §8: 50 requests/s sustained, burst 200 by default) and
per client address for failed authentications.

Both limits use a ``Limiter``; a store shared across processes replaces ``RateLimiter`` behind that interface.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from postroom.errors import RateLimited


class Limiter(Protocol):
    """Token buckets by key."""

    def acquire(self, key: str) -> None:
        """Take one token for ``key`` or raise RateLimited with the seconds until one is available."""

    def wait(self, key: str) -> float:
        """Seconds until ``key`` has a token (0 when it has one now); takes nothing."""


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

    def _refilled(self, key: str, now: float) -> _Bucket:
        """The bucket of ``key`` topped up to ``now``; call with the lock held."""
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._max_keys:
                self._buckets.clear()
            bucket = self._buckets[key] = _Bucket(self._burst, now)
        bucket.tokens = min(self._burst, bucket.tokens + max(0.0, now - bucket.updated) * self._rate)
        bucket.updated = now
        return bucket

    def acquire(self, key: str) -> None:
        """Take one token for ``key`` or raise RateLimited with the seconds until one is available."""
        if self._rate <= 0:
            return
        now = self._seconds()
        with self._lock:
            bucket = self._refilled(key, now)
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return
            wait = (1 - bucket.tokens) / self._rate
        raise RateLimited(math.ceil(wait))

    def wait(self, key: str) -> float:
        if self._rate <= 0:
            return 0.0
        now = self._seconds()
        with self._lock:
            if key not in self._buckets:
                return 0.0
            bucket = self._refilled(key, now)
            return 0.0 if bucket.tokens >= 1 else (1 - bucket.tokens) / self._rate


TOO_MANY_FAILURES = "Too many failed authentications from this address"


class FailedAuthentications:
    """Failed authentications per client address, each taking a token from the address's bucket.

    An address with no token left is answered 429 before any lookup, unless it presents a credential this
    process saw authenticate successfully, which is then checked as usual: a key keeps working from every address,
    the one that is failing included. Unknown and malformed keys are what gets limited.
    """

    def __init__(self, limiter: Limiter, remembered: int = 10_000) -> None:
        self._limiter = limiter
        self._remembered = remembered
        self._good: dict[bytes, None] = {}  # digests of credentials that authenticated, oldest first
        self._lock = threading.Lock()

    @staticmethod
    def _digest(credential: str | None) -> bytes:
        return hashlib.sha256((credential or "").encode("utf-8", "surrogatepass")).digest()

    def check(self, client: str, credential: str | None) -> None:
        """Before authenticating: raise RateLimited if ``client`` is out of failures and ``credential`` is not known."""
        wait = self._limiter.wait(client)
        if wait <= 0:
            return
        with self._lock:
            if credential and self._digest(credential) in self._good:
                return
        raise RateLimited(math.ceil(wait), TOO_MANY_FAILURES)

    def failed(self, client: str) -> None:
        """Count a failure; raise RateLimited once ``client`` has no failures left (the answer instead of 401)."""
        try:
            self._limiter.acquire(client)
        except RateLimited as error:
            raise RateLimited(error.retry_after, TOO_MANY_FAILURES) from None

    def succeeded(self, credential: str) -> None:
        digest = self._digest(credential)
        with self._lock:
            self._good.pop(digest, None)
            if len(self._good) >= self._remembered:
                del self._good[next(iter(self._good))]
            self._good[digest] = None
