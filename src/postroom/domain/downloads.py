"""Signed, expiring download grants for stored blobs: the token carries the blob and its expiry, HMAC-signed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from postroom.errors import NotFound


@dataclass(frozen=True)
class DownloadGrant:
    blob_key: str
    expires_at: datetime
    filename: str | None
    content_type: str | None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class DownloadSigner:
    secret: bytes

    def _mac(self, payload: bytes) -> str:
        return _b64(hmac.new(self.secret, payload, hashlib.sha256).digest())

    def sign(self, grant: DownloadGrant) -> str:
        fields = [grant.blob_key, int(grant.expires_at.timestamp()), grant.filename, grant.content_type]
        payload = json.dumps(fields, separators=(",", ":")).encode()
        return f"{_b64(payload)}.{self._mac(payload)}"

    def verify(self, token: str, now: datetime) -> DownloadGrant:
        """The grant a token carries; an unknown, forged or expired token is simply not found."""
        try:
            encoded, mac = token.split(".", 1)
            payload = _unb64(encoded)
            if not hmac.compare_digest(mac, self._mac(payload)):
                raise ValueError("bad signature")
            blob_key, expires, filename, content_type = json.loads(payload)
            expires_at = datetime.fromtimestamp(int(expires), UTC)
        except (ValueError, TypeError, OverflowError, OSError) as error:
            raise NotFound("Download link is invalid") from error
        if expires_at <= now:
            raise NotFound("Download link has expired")
        return DownloadGrant(str(blob_key), expires_at, filename, content_type)
