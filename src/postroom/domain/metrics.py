"""Metrics (spec §3.13): what is counted, the owners a count is kept for, and the grid of time cells queries use.

Counts are kept per (scope, metric, grain, cell) where a cell starts at a whole multiple of its grain (60 s or
3600 s) counted from the Unix epoch; a query sums cells into buckets of ``period`` seconds on the same grid.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from postroom.domain.events import (
    DOMAIN_VERIFIED,
    MESSAGE_BOUNCED,
    MESSAGE_COMPLAINED,
    MESSAGE_DELIVERED,
    MESSAGE_RECEIVED,
    MESSAGE_RECEIVED_BLOCKED,
    MESSAGE_RECEIVED_SPAM,
    MESSAGE_RECEIVED_UNAUTHENTICATED,
    MESSAGE_REJECTED,
    MESSAGE_SENT,
)

METRIC_EVENT_TYPES = (
    MESSAGE_RECEIVED,
    MESSAGE_RECEIVED_SPAM,
    MESSAGE_RECEIVED_BLOCKED,
    MESSAGE_RECEIVED_UNAUTHENTICATED,
    MESSAGE_SENT,
    MESSAGE_DELIVERED,
    MESSAGE_BOUNCED,
    MESSAGE_COMPLAINED,
    MESSAGE_REJECTED,
    DOMAIN_VERIFIED,
)

STORAGE_BYTES = "storage_bytes"
MESSAGE_COUNT = "message_count"
THREAD_COUNT = "thread_count"
INBOX_COUNT = "inbox_count"
DOMAIN_COUNT = "domain_count"
POD_COUNT = "pod_count"
INBOX_USAGE = (STORAGE_BYTES, MESSAGE_COUNT, THREAD_COUNT)
POD_USAGE = (*INBOX_USAGE, INBOX_COUNT, DOMAIN_COUNT)
ORGANIZATION_USAGE = (*POD_USAGE, POD_COUNT)

BOUNCE = "bounce"
COMPLAINT = "complaint"
RATE_TYPES = (BOUNCE, COMPLAINT)
# Rates are per recipient (RatePoint.sent): these rollups count recipients, not events.
SENT_RECIPIENTS = "recipients.sent"
RATE_RECIPIENTS = {BOUNCE: "recipients.bounced", COMPLAINT: "recipients.complained"}
_RECIPIENT_METRICS = {
    MESSAGE_SENT: SENT_RECIPIENTS,
    MESSAGE_BOUNCED: RATE_RECIPIENTS[BOUNCE],
    MESSAGE_COMPLAINED: RATE_RECIPIENTS[COMPLAINT],
}

MINUTE = 60
HOUR = 3600
GRAINS = (MINUTE, HOUR)


@dataclass(frozen=True)
class MetricOwner:
    """Who a change belongs to: counted for the organization, and for the pod and inbox when there are some."""

    organization_id: str
    pod_id: str | None = None
    inbox_id: str | None = None

    def scope_keys(self) -> list[str]:
        keys = [organization_key(self.organization_id)]
        if self.pod_id is not None:
            keys.append(pod_key(self.pod_id))
        if self.inbox_id is not None:
            keys.append(inbox_key(self.inbox_id))
        return keys


def organization_key(organization_id: str) -> str:
    return f"o:{organization_id}"


def pod_key(pod_id: str) -> str:
    return f"p:{pod_id}"


def inbox_key(inbox_id: str) -> str:
    return f"i:{inbox_id}"


def epoch_seconds(at: datetime) -> int:
    return int(at.timestamp())


def from_epoch(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def cell_of(seconds: int, size: int) -> int:
    """The start of the grid cell of ``size`` seconds holding the instant ``seconds``."""
    return seconds - seconds % size


def event_increments(event_type: str, data: Mapping[str, object]) -> dict[str, int]:
    """What one outbox event adds to the counts: itself, and its recipients where rates need them."""
    if event_type not in METRIC_EVENT_TYPES:
        return {}
    increments = {event_type: 1}
    if recipient_metric := _RECIPIENT_METRICS.get(event_type):
        recipients = data.get("recipients")
        increments[recipient_metric] = len(recipients) if isinstance(recipients, list) else 0
    return increments


def grain_for(period: int | None) -> int:
    """The coarsest kept grain whose cells fit whole into buckets of ``period`` seconds."""
    if period is not None and period % HOUR == 0:
        return HOUR
    return MINUTE


@dataclass(frozen=True)
class Backlog:
    """Work waiting in the shared queues, for monitoring (ages in seconds, 0 when nothing waits)."""

    jobs: int
    jobs_due: int
    oldest_due_job_seconds: float
    webhooks: int
    oldest_webhook_seconds: float
    undispatched: int
