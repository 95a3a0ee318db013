"""Per-message return paths (VERP) that only this server can make: ``bounces=<message row>.<tag>@<host>``.

The host is the default domain, or a custom domain's return-path host (``bounces.<domain>``, so SPF aligns with the
From domain). The tag is an HMAC of the row id (and, off the default domain, of the host too), so a report sent
to a guessed, copied-and-edited or moved address names nothing.
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

    def _tag(self, row_id: str, host: str) -> str:
        # The default domain's tags cover the row alone, as they always have: bounces of mail sent before custom
        # domains existed still find their message.
        signed = row_id if host == self._domain else f"{row_id}@{host}"
        return hmac.new(self._secret, signed.encode(), hashlib.sha256).hexdigest()[:16]

    def address(self, row_id: str, host: str | None = None) -> str:
        """The return path of a message sent with ``host`` (default: the default domain) as its bounce host."""
        domain = (host or self._domain).lower()
        return f"bounces={row_id}.{self._tag(row_id, domain)}@{domain}"

    def message_row(self, address: str) -> str | None:
        """The row a return path of ours names, or None for any other address (or a forged tag)."""
        local, _, domain = address.strip().lower().rpartition("@")
        found = _ADDRESS.fullmatch(local)
        if found is None or not domain:
            return None
        row_id, tag = found.groups()
        return row_id if hmac.compare_digest(tag, self._tag(row_id, domain)) else None
