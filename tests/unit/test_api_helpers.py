"""HTTP helpers: raw-path canonicalisation, the three spellings of list parameters, per-key rate limits."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from postroom.api import ratelimit
from postroom.api.deps import list_query
from postroom.api.rawpath import canonical_path, segment
from postroom.errors import InvalidInput, RateLimited


@pytest.mark.parametrize(
    ("raw", "segments"),
    [
        (b"/v0/inboxes/a+b@x.com", ["a+b@x.com"]),
        (b"/v0/inboxes/a%2Bb%40x.com", ["a+b@x.com"]),
        (b"/v0/inboxes/a%2bb%40x.com?x=1", ["a+b@x.com"]),
        (b"/v0/inboxes/i@x/messages/<ab/cd@x>", ["i@x", "messages", "<ab/cd@x>"]),
        (b"/v0/inboxes/i@x/messages/%3Cab%2Fcd%40x%3E", ["i@x", "messages", "<ab/cd@x>"]),
        (b"/v0/inboxes/i@x/messages/<a/b/c@x>/raw", ["i@x", "messages", "<a/b/c@x>", "raw"]),
        (b"/v0/inboxes/i@x/messages/%3Cunclosed/raw", ["i@x", "messages", "<unclosed", "raw"]),
        (b"/v0/inboxes/100%25", ["100%"]),
        (b"/v0/inboxes/a%20b", ["a b"]),
    ],
)
def test_every_spelling_of_an_id_reaches_the_same_segments(raw: bytes, segments: list[str]) -> None:
    path = canonical_path(raw)
    parts = path.split("/")[3:]
    assert [segment(part) for part in parts] == segments


def _request(query: bytes) -> Request:
    return Request({"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": query})


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (b'labels=["unread", "x"]', ["unread", "x"]),
        (b"labels=%5B%22a%22%2C%22b%22%5D", ["a", "b"]),
        (b"labels=a&labels=b", ["a", "b"]),
        (b"labels=a", ["a"]),
        (b"other=1", None),
    ],
)
def test_list_parameters_in_three_spellings(query: bytes, expected: list[str] | None) -> None:
    assert list_query(_request(query), "labels") == expected


@pytest.mark.parametrize("query", [b"labels=[", b"labels=[1,2]", b'labels=[["a"]]'])
def test_malformed_list_parameters_are_refused(query: bytes) -> None:
    with pytest.raises(InvalidInput):
        list_query(_request(query), "labels")


def test_rate_limiter_allows_burst_then_refills() -> None:
    clock = {"now": 100.0}
    limiter = ratelimit.RateLimiter(rate_per_second=2, burst=3, seconds=lambda: clock["now"])
    for _ in range(3):
        limiter.acquire("k")
    with pytest.raises(RateLimited) as caught:
        limiter.acquire("k")
    assert caught.value.retry_after == 1
    limiter.acquire("other")  # buckets are per key
    clock["now"] += 0.5
    limiter.acquire("k")
    with pytest.raises(RateLimited):
        limiter.acquire("k")
