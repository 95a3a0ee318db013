"""Page sizes and page tokens: clamped limits, signed tokens bound to one endpoint and one filter set."""

from __future__ import annotations

import base64

import pytest

from postroom.domain.pagination import DEFAULT_LIMIT, MAX_LIMIT, PageTokens, clamp_limit
from postroom.errors import InvalidInput

TOKENS = PageTokens(b"k" * 32)


def test_limits() -> None:
    assert clamp_limit(None) == DEFAULT_LIMIT
    assert clamp_limit(1) == 1
    assert clamp_limit(10_000) == MAX_LIMIT
    assert clamp_limit(900, maximum=500) == 500
    for bad in (0, -1):
        with pytest.raises(InvalidInput):
            clamp_limit(bad)


def test_token_round_trip() -> None:
    token = TOKENS.encode("inboxes.list", "f", ("2026-01-01T00:00:00+00:00", "a@x", 3))
    assert TOKENS.decode(token, "inboxes.list", "f") == ("2026-01-01T00:00:00+00:00", "a@x", 3)


@pytest.mark.parametrize(("endpoint", "filters"), [("pods.list", "f"), ("inboxes.list", "other")])
def test_token_is_bound_to_endpoint_and_filters(endpoint: str, filters: str) -> None:
    token = TOKENS.encode("inboxes.list", "f", ("t", "id"))
    with pytest.raises(InvalidInput):
        TOKENS.decode(token, endpoint, filters)


def test_forged_and_garbage_tokens_are_refused() -> None:
    token = TOKENS.encode("inboxes.list", "f", ("t", "id"))
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[5] ^= 1
    forged = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    other_secret = PageTokens(b"z" * 32).encode("inboxes.list", "f", ("t", "id"))
    for bad in (forged, other_secret, "", "!!!", "a", "x" * 5000, token[:-2]):
        with pytest.raises(InvalidInput):
            TOKENS.decode(bad, "inboxes.list", "f")
