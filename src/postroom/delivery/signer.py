"""Signs outgoing messages with the DKIM key of their domain (the MessageSigner port).

The server's own keys (the default domain's) are loaded, or made and stored, on first use and then kept for the
life of the process; a custom domain's key comes with each message to sign, read with the domain.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping

from postroom.delivery.dkim import DkimKey, public_txt, sign
from postroom.domain.custom_domains import DkimPrivateKey


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

    def sign(self, raw: bytes, domain: str, key: DkimPrivateKey | None = None) -> bytes:
        if key is not None:
            return sign(raw, DkimKey(domain.lower(), key.selector, key.private_pem))
        own = self.key(domain)
        return sign(raw, own) if own is not None else raw
