"""Outbound mail as data: delivery jobs, per-recipient results, the retry schedule and bounce classification.

A job holds the recipients of one sent message at one domain; each attempt yields a result per recipient
(delivered, temporary, permanent), from which the message's labels, events and the job's next attempt follow.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

Outcome = Literal["delivered", "temporary", "permanent", "rejected"]
RecipientState = Literal["queued", "delayed", "delivered", "bounced", "rejected"]

_ENHANCED_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")


@dataclass
class OutboundJob:
    job_id: str
    row_id: str  # the sent message's row
    inbox_id: str
    organization_id: str
    domain: str
    mail_from: str  # the VERP return path
    recipients: list[str]  # still to be delivered
    attempts: int
    next_attempt_at: datetime
    expires_at: datetime  # retries stop here; what is still temporary then bounces
    created_at: datetime
    lease: str | None = None
    last_error: str | None = None


@dataclass(frozen=True)
class DeliveryResult:
    """What became of one recipient in one attempt (from an SMTP reply, a local inbox, or a DSN)."""

    address: str
    outcome: Outcome
    code: int | None  # SMTP reply code when there was one
    detail: str  # the server's reply text or the local reason ("connection refused", "timeout")


@dataclass(frozen=True)
class IdempotencyRecord:
    """The first result of a send made with an Idempotency-Key (spec §1.8), and what the request was."""

    organization_id: str
    key: str
    fingerprint: str  # of the request: the same key with another request is a conflict
    message_id: str
    thread_id: str
    created_at: datetime


@dataclass(frozen=True)
class RetryPolicy:
    base_seconds: float
    max_seconds: float
    window_seconds: float

    def delay(self, failed_attempts: int, rng: random.Random | None = None) -> timedelta:
        """Exponential backoff (base · 2^(n-1), capped) with ±20 % jitter so retries of many jobs spread out."""
        exponent = min(max(failed_attempts - 1, 0), 32)
        seconds = min(self.base_seconds * 2**exponent, self.max_seconds)
        jitter = (rng or random).uniform(0.8, 1.2)
        return timedelta(seconds=seconds * jitter)


def enhanced_status(result: DeliveryResult) -> str:
    """The RFC 3463 status of a result (``5.1.1``), read from the reply or derived from its class."""
    found = _ENHANCED_STATUS.search(result.detail)
    if found:
        return ".".join(found.groups())
    if result.outcome == "delivered":
        return "2.0.0"
    if result.outcome == "temporary":
        return "4.0.0"
    return "5.0.0"


def bounce_sub_type(status: str, code: int | None) -> str:
    """The §4.1 bounce ``sub_type`` for a permanent failure, in the vocabulary the hosted service uses."""
    if status.startswith("5.1.") or (code == 550 and status == "5.0.0"):
        return "NoEmail"
    if status == "5.2.2":
        return "MailboxFull"
    if status in {"5.3.4", "5.2.3"} or code == 552:
        return "MessageTooLarge"
    if status.startswith("5.7."):
        return "ContentRejected"
    return "General"


_BAD_ADDRESS_STATUSES = frozenset({"5.1.1", "5.1.2", "5.1.3", "5.1.6", "5.1.10"})


def is_hard_bounce(status: str, code: int | None) -> bool:
    """Whether later mail to the address should be refused: the address itself does not exist.

    Only the statuses that say so (RFC 3463 5.1.x for the recipient) or a bare 550 count; a refusal of the sender,
    the content, the size or a mailbox state (5.2.x) says nothing lasting about the address.
    """
    return status in _BAD_ADDRESS_STATUSES or (code == 550 and status == "5.0.0")


def recipient_domain(address: str) -> str:
    return address.rpartition("@")[2].lower()
