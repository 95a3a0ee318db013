"""Outbound rules as data: the retry schedule's growth, cap and jitter; RFC 3463 statuses and bounce classes."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from postroom.domain.outbound import (
    DeliveryResult,
    RetryPolicy,
    bounce_sub_type,
    enhanced_status,
    is_hard_bounce,
    recipient_domain,
)

POLICY = RetryPolicy(base_seconds=60.0, max_seconds=4 * 3600.0, window_seconds=48 * 3600.0)


class Extreme(random.Random):
    """A generator whose ``uniform`` always returns one end of the range, to pin the jitter's bounds."""

    def __init__(self, end: str) -> None:
        super().__init__(0)
        self.end = end

    def uniform(self, a: float, b: float) -> float:
        return a if self.end == "low" else b


def seconds(delay: timedelta) -> float:
    return delay.total_seconds()


@pytest.mark.parametrize(
    ("failed_attempts", "nominal"),
    [(0, 60.0), (1, 60.0), (2, 120.0), (3, 240.0), (4, 480.0), (8, 7680.0), (9, 14400.0), (10, 14400.0)],
)
def test_delay_doubles_then_caps_within_twenty_percent(failed_attempts: int, nominal: float) -> None:
    assert seconds(POLICY.delay(failed_attempts, Extreme("low"))) == pytest.approx(nominal * 0.8)
    assert seconds(POLICY.delay(failed_attempts, Extreme("high"))) == pytest.approx(nominal * 1.2)
    rng = random.Random(failed_attempts)
    for _ in range(200):
        assert nominal * 0.8 <= seconds(POLICY.delay(failed_attempts, rng)) <= nominal * 1.2


def test_delay_never_exceeds_the_cap_even_for_absurd_attempt_counts() -> None:
    for attempts in (33, 100, 10**6):
        assert seconds(POLICY.delay(attempts, Extreme("high"))) == pytest.approx(4 * 3600.0 * 1.2)


def test_delay_grows_monotonically_until_the_cap() -> None:
    nominal = [seconds(POLICY.delay(n, Extreme("low"))) for n in range(1, 15)]
    assert nominal == sorted(nominal)
    assert nominal[-1] == nominal[-2]  # capped


def test_jitter_spreads_retries() -> None:
    rng = random.Random(7)
    delays = {seconds(POLICY.delay(3, rng)) for _ in range(50)}
    assert len(delays) > 40
    assert min(delays) < 240.0 < max(delays)


def test_small_base_as_the_conformance_servers_use() -> None:
    fast = RetryPolicy(base_seconds=0.5, max_seconds=1.0, window_seconds=60.0)
    assert [seconds(fast.delay(n, Extreme("low"))) for n in (1, 2, 3)] == pytest.approx([0.4, 0.8, 0.8])


def result(detail: str, outcome: str = "permanent", code: int | None = 550) -> DeliveryResult:
    return DeliveryResult("x@example.org", outcome, code, detail)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("reply", "outcome", "status"),
    [
        ("550 5.1.1 <x@example.org>: Recipient address rejected: User unknown", "permanent", "5.1.1"),
        ("5.1.1 The email account that you tried to reach does not exist", "permanent", "5.1.1"),
        ("552-5.2.2 The email account that you tried to reach is over quota", "permanent", "5.2.2"),
        ("554 5.7.1 Service unavailable; Client host blocked using zen.spamhaus.org", "permanent", "5.7.1"),
        ("451 4.3.0 try later", "temporary", "4.3.0"),
        ("421 4.7.0 Try again later, closing connection", "temporary", "4.7.0"),
        ("250 2.0.0 OK: queued as 12345", "delivered", "2.0.0"),
        ("2.1.5 Delivered to a local inbox", "delivered", "2.1.5"),
        # No enhanced code in the reply: derived from the outcome's class.
        ("550 Requested action not taken: mailbox unavailable", "permanent", "5.0.0"),
        ("450 mailbox busy", "temporary", "4.0.0"),
        ("250 ok", "delivered", "2.0.0"),
        ("the address is on the suppression list", "rejected", "5.0.0"),
        ("connection refused", "temporary", "4.0.0"),
        # Numbers that only look like statuses are not taken for one.
        ("550 rejected: too many hops (15.1.1)", "permanent", "5.0.0"),
        ("550 see https://example.org/5.1.1x", "permanent", "5.0.0"),
        ("550 6.1.1 bogus class", "permanent", "5.0.0"),
    ],
)
def test_enhanced_status(reply: str, outcome: str, status: str) -> None:
    assert enhanced_status(result(reply, outcome)) == status


@pytest.mark.parametrize(
    ("status", "code", "sub_type", "hard"),
    [
        ("5.1.1", 550, "NoEmail", True),  # user unknown
        ("5.1.10", 550, "NoEmail", True),  # null MX (RFC 7505)
        ("5.1.2", 550, "NoEmail", True),  # bad destination system
        ("5.0.0", 550, "NoEmail", True),  # plain 550 without an enhanced code
        ("5.2.2", 552, "MailboxFull", False),
        ("5.2.2", None, "MailboxFull", False),
        ("5.3.4", 552, "MessageTooLarge", False),
        ("5.2.3", 552, "MessageTooLarge", False),
        ("5.0.0", 552, "MessageTooLarge", False),
        ("5.7.1", 554, "ContentRejected", False),
        ("5.7.26", 550, "ContentRejected", False),  # DMARC failure
        ("5.4.4", 554, "General", False),  # unable to route
        ("5.0.0", 554, "General", False),
        ("5.0.0", None, "General", False),  # e.g. our own size check: not the address
        ("5.1.8", 553, "NoEmail", False),  # the sender domain was refused, not the recipient
    ],
)
def test_bounce_classes(status: str, code: int | None, sub_type: str, hard: bool) -> None:
    assert bounce_sub_type(status, code) == sub_type
    assert is_hard_bounce(status, code) is hard


def test_recipient_domain_is_the_lower_cased_part_after_the_last_at() -> None:
    assert recipient_domain("Ann@Example.ORG") == "example.org"
    assert recipient_domain('"a@b"@example.net') == "example.net"
