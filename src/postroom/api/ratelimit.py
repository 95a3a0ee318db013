"""Rate limits: per API key (spec §8: 50 requests/s sustained, burst 200 by default) and per client address for
failed authentications, both ``Limiter``s over a ``RateLimits`` store.

``MemoryRateLimits`` keeps the budgets in this process (one-process deployments, SQLite, tests with their own
clock); several processes share theirs through PostgreSQL or Redis (``postroom.storage.rate_limits``). All use the
same GCRA arithmetic: one "theoretical arrival time" per key.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Callable
from typing import Protocol

from postroom.errors import RateLimited
from postroom.services.ports import RateLimits


class Limiter(Protocol):
    """Token buckets by key."""

    def acquire(self, key: str) -> None:
        """Take one token for ``key`` or raise RateLimited with the seconds until one is available."""

    def wait(self, key: str) -> float:
        """Seconds until ``key`` has a token (0 when it has one now); takes nothing."""


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

    def peek(self, key: str, limit: int, window_seconds: float) -> float:
        interval = window_seconds / limit
        now = self._seconds()
        with self._lock:
            arrival = max(self._arrivals.get(key, now), now) + interval
        return max(0.0, arrival - now - window_seconds) if arrival - now > window_seconds + 1e-9 else 0.0


class RateLimiter:
    """A ``Limiter``: ``burst`` hits at once per key, refilled at ``rate_per_second``, kept in ``limits``."""

    def __init__(
        self,
        rate_per_second: float,
        burst: int,
        max_keys: int = 100_000,
        seconds: Callable[[], float] = time.monotonic,
        limits: RateLimits | None = None,
        namespace: str = "api-key:",
    ) -> None:
        self._rate = rate_per_second
        self._burst = max(1, burst)
        self._limits = limits if limits is not None else MemoryRateLimits(max_keys, seconds)
        self._namespace = namespace  # keeps the limits apart in a store they share

    @property
    def in_memory(self) -> bool:
        """True when ``acquire`` never leaves this process (budgets held here, or no limit), so it may run on the
        event loop."""
        return self._rate <= 0 or isinstance(self._limits, MemoryRateLimits)

    def acquire(self, key: str) -> None:
        """Take one request for ``key`` or raise RateLimited with the seconds until one is available."""
        if self._rate <= 0:
            return
        wait = self._limits.hit(self._namespace + key, self._burst, self._burst / self._rate)
        if wait > 0:
            raise RateLimited(max(1, math.ceil(wait)))

    def wait(self, key: str) -> float:
        if self._rate <= 0:
            return 0.0
        return self._limits.peek(self._namespace + key, self._burst, self._burst / self._rate)


TOO_MANY_FAILURES = "Too many failed authentications from this address"


class FailedAuthentications:
    """Failed authentications per client address, each taking a token from the address's bucket.

    An address with no token left is answered 429 before any lookup, unless it presents a credential this
    process saw authenticate successfully, which is then checked as usual: a key keeps working from every address,
    the one that is failing included. Unknown and malformed keys are what gets limited. The budgets live in the
    limiter's store (shared by every process on PostgreSQL or Redis); the credentials seen working are per process.
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
        if credential:
            with self._lock:
                if self._digest(credential) in self._good:
                    return  # before asking the store: a working key costs no round trip to a shared one
        wait = self._limiter.wait(client)
        if wait <= 0:
            return
        raise RateLimited(math.ceil(wait), TOO_MANY_FAILURES)

    def known(self, credential: str) -> bool:
        """Whether ``credential`` authenticated in this process lately: ``check`` then passes without the store."""
        with self._lock:
            return self._digest(credential) in self._good

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
