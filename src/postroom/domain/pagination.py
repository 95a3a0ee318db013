"""Keyset pagination: page-size rules and opaque, HMAC-signed page tokens bound to their endpoint and filters."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass

from postroom.errors import InvalidInput

DEFAULT_LIMIT = 50
MAX_LIMIT = 100

Position = tuple[str | int | float, ...]


@dataclass(frozen=True)
class PageRequest:
    limit: int
    after: Position | None
    ascending: bool


def clamp_limit(limit: int | None, maximum: int = MAX_LIMIT) -> int:
    if limit is None:
        return min(DEFAULT_LIMIT, maximum)
    if limit <= 0:
        raise InvalidInput("limit must be a positive integer", field="limit")
    return min(limit, maximum)


@dataclass(frozen=True)
class PageTokens:
    """Signs and checks page tokens with a server secret so that clients cannot forge positions."""

    secret: bytes

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self.secret, payload, hashlib.sha256).digest()[:16]

    def encode(self, endpoint: str, filters: str, position: Position) -> str:
        payload = json.dumps([endpoint, filters, list(position)], separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(payload + self._mac(payload)).decode().rstrip("=")

    def decode(self, token: str, endpoint: str, filters: str) -> Position:
        invalid = InvalidInput("page_token is invalid or belongs to another endpoint or filter", field="page_token")
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (ValueError, TypeError) as error:
            raise invalid from error
        payload, mac = raw[:-16], raw[-16:]
        if len(raw) <= 16 or not hmac.compare_digest(mac, self._mac(payload)):
            raise invalid
        try:
            token_endpoint, token_filters, position = json.loads(payload)
        except (ValueError, TypeError) as error:
            raise invalid from error
        if token_endpoint != endpoint or token_filters != filters or not isinstance(position, list):
            raise invalid
        return tuple(position)
