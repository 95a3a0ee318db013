"""Failed authentications per client address, on a hand-moved clock: the budget, the refusal, the known key."""

from __future__ import annotations

import pytest

from postroom.api.ratelimit import FailedAuthentications, RateLimiter
from postroom.errors import RateLimited


def limiter(now: dict[str, float]) -> FailedAuthentications:
    # Three failures in a burst, one more every 10 seconds.
    return FailedAuthentications(RateLimiter(0.1, 3, seconds=lambda: now["t"]), remembered=2)


def test_an_address_out_of_failures_is_refused_until_one_is_regained() -> None:
    now = {"t": 0.0}
    failures = limiter(now)
    for _ in range(3):
        failures.check("a", "Bearer wrong")
        failures.failed("a")
    with pytest.raises(RateLimited) as refused:
        failures.failed("a")
    assert refused.value.retry_after == 10
    with pytest.raises(RateLimited):
        failures.check("a", "Bearer wrong")
    failures.check("b", "Bearer wrong")  # another address has its own budget
    now["t"] = 10.0
    failures.check("a", "Bearer wrong")


def test_a_known_credential_passes_a_refused_address_and_is_forgotten_oldest_first() -> None:
    now = {"t": 0.0}
    failures = limiter(now)
    for credential in ("Bearer one", "Bearer two", "Bearer three"):
        failures.succeeded(credential)
    for _ in range(3):
        failures.failed("a")
    failures.check("a", "Bearer two")
    failures.check("a", "Bearer three")
    for unknown in ("Bearer one", "Bearer wrong", None, ""):
        with pytest.raises(RateLimited):
            failures.check("a", unknown)


def test_no_limit_when_the_rate_is_zero() -> None:
    failures = FailedAuthentications(RateLimiter(0, 0))
    for _ in range(100):
        failures.failed("a")
    failures.check("a", None)
