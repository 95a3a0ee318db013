"""Answers of the inbound-authentication lookups (SPF, DKIM keys, DMARC), kept for their TTL on an injected clock.

Written here rather than using dnspython's own ``LRUCache``: that one reads ``time.time()``, so neither tests nor the
server's clock could move it, and it would also keep negative answers for 300 s when they carry no SOA. Only answers
with records are kept; a name without records is asked again every time.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

DEFAULT_MAX_ENTRIES = 10_000


def _key(name: str, rdtype: str) -> tuple[str, str]:
    return name.rstrip(".").lower(), rdtype


class AnswerCache:
    def __init__(
        self, seconds: Callable[[], float], max_seconds: float, max_entries: int = DEFAULT_MAX_ENTRIES
    ) -> None:
        self._seconds = seconds
        self._max_seconds = max_seconds
        self._max_entries = max_entries
        self._entries: OrderedDict[tuple[str, str], tuple[float, list[str]]] = OrderedDict()
        self._lock = threading.Lock()  # lookups run on several worker threads at once

    def get(self, name: str, rdtype: str) -> list[str] | None:
        key = _key(name, rdtype)
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            expires, records = found
            if self._seconds() >= expires:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return list(records)

    def put(self, name: str, rdtype: str, records: list[str], ttl: float) -> None:
        keep = min(ttl, self._max_seconds)
        if keep <= 0 or not records:
            return
        key = _key(name, rdtype)
        with self._lock:
            self._entries[key] = (self._seconds() + keep, list(records))
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
