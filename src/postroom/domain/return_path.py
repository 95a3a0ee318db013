"""Per-message return paths (VERP) that only this server can make: ``bounces=<message row>.<tag>@<domain>``.

The tag is an HMAC of the row id, so a report sent to a guessed or copied-and-edited address names nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import re

_ADDRESS = re.compile(r"bounces=(msg_[0-9a-z]{26})\.([0-9a-f]{16})")


class ReturnPaths:
    def __init__(self, secret: bytes, domain: str) -> None:
        self._secret = secret
        self._domain = domain.lower()

    def _tag(self, row_id: str) -> str:
        return hmac.new(self._secret, row_id.encode(), hashlib.sha256).hexdigest()[:16]

    def address(self, row_id: str) -> str:
        return f"bounces={row_id}.{self._tag(row_id)}@{self._domain}"

    def message_row(self, address: str) -> str | None:
        """The row a return path of ours names, or None for any other address (or a forged tag)."""
        local, _, domain = address.strip().lower().rpartition("@")
        found = _ADDRESS.fullmatch(local)
        if found is None or domain != self._domain:
            return None
        row_id, tag = found.groups()
        return row_id if hmac.compare_digest(tag, self._tag(row_id)) else None
