"""Signs outgoing messages with the DKIM key of their domain (the MessageSigner port).

Keys are loaded (or made and stored, for a new domain) on first use and then kept for the life of the process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping

from postroom.delivery.dkim import DkimKey, public_txt, sign


class DkimSigner:
    def __init__(self, loaders: Mapping[str, Callable[[], DkimKey]]) -> None:
        self._loaders = {domain.lower(): load for domain, load in loaders.items()}
        self._keys: dict[str, DkimKey] = {}
        self._lock = threading.Lock()

    def key(self, domain: str) -> DkimKey | None:
        domain = domain.lower()
        with self._lock:
            if domain not in self._keys and domain in self._loaders:
                self._keys[domain] = self._loaders[domain]()
            return self._keys.get(domain)

    def public_txt(self, domain: str) -> str | None:
        key = self.key(domain)
        return public_txt(key) if key is not None else None

    def sign(self, raw: bytes, domain: str) -> bytes:
        key = self.key(domain)
        return sign(raw, key) if key is not None else raw
