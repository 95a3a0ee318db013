"""A clock tests move by hand, injected where the server reads the time (``build(settings, clock=...)``).

By default it follows real time shifted by what the test advanced it, so work that waits on real timers still
runs; ``frozen=True`` stops it at its start until advanced.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class TestClock:
    __test__ = False  # not a test class, whatever its name says to pytest

    def __init__(self, start: datetime | None = None, *, frozen: bool = False) -> None:
        self._frozen = frozen
        self._base = start or datetime.now(UTC)
        self._offset = timedelta(0)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            base = self._base if self._frozen else datetime.now(UTC)
            return base + self._offset

    def advance(self, **delta: float) -> datetime:
        with self._lock:
            self._offset += timedelta(**delta)
        return self.now()


class ManualClock(TestClock):
    """A clock that stands still at ``start`` until advanced."""

    def __init__(self, start: datetime | None = None) -> None:
        super().__init__(start, frozen=True)
