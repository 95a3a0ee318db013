"""Outbox events: what happened, to which inbox or domain, committed in the same transaction as the change itself.

``data`` carries what the §4.1 payload needs beyond the message row, per event type:
- ``message.received*``: nothing (the payload is the stored message and its thread)
- ``message.sent``, ``message.delivered``: ``{"recipients": [address, ...]}``
- ``message.bounced``: ``{"type": "Permanent"|"Transient", "sub_type": str, "recipients": [{"address", "status"}]}``
- ``message.rejected``: ``{"reason": str}``
- ``domain.verified``: ``{"domain_id": str}`` (no inbox or message; no pod for an organization-wide domain)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from postroom.domain.ids import new_id
from postroom.domain.message import Message

MESSAGE_RECEIVED = "message.received"
MESSAGE_RECEIVED_SPAM = "message.received.spam"
MESSAGE_RECEIVED_BLOCKED = "message.received.blocked"
MESSAGE_RECEIVED_UNAUTHENTICATED = "message.received.unauthenticated"
MESSAGE_SENT = "message.sent"
MESSAGE_DELIVERED = "message.delivered"
MESSAGE_BOUNCED = "message.bounced"
MESSAGE_COMPLAINED = "message.complained"
MESSAGE_REJECTED = "message.rejected"
MESSAGE_OPENED = "message.opened"
DOMAIN_VERIFIED = "domain.verified"

RESTRICTED_EVENT_TYPES = (MESSAGE_RECEIVED_SPAM, MESSAGE_RECEIVED_BLOCKED, MESSAGE_RECEIVED_UNAUTHENTICATED)
STANDARD_EVENT_TYPES = (
    MESSAGE_RECEIVED,
    MESSAGE_SENT,
    MESSAGE_DELIVERED,
    MESSAGE_BOUNCED,
    MESSAGE_COMPLAINED,
    MESSAGE_REJECTED,
    MESSAGE_OPENED,
    DOMAIN_VERIFIED,
)
EVENT_TYPES = STANDARD_EVENT_TYPES + RESTRICTED_EVENT_TYPES


@dataclass(frozen=True)
class OutboxEvent:
    event_id: str
    event_type: str
    organization_id: str
    pod_id: str | None  # None: an organization-wide domain's event
    inbox_id: str | None  # None: a domain event
    message_row_id: str | None  # the row of the message the event is about (None: a domain event)
    created_at: datetime
    data: Mapping[str, object] = field(default_factory=dict)


LABEL_ADDED = "label.added"
LABEL_REMOVED = "label.removed"


@dataclass(frozen=True)
class InboxEvent:
    """One label change of one message, kept in the inbox's event log (spec §3.14)."""

    event_id: str
    event_type: str  # LABEL_ADDED or LABEL_REMOVED
    organization_id: str
    pod_id: str
    inbox_id: str
    message_id: str
    label: str
    event_at: datetime
    created_at: datetime


def label_events(message: Message, added: list[str], removed: list[str], now: datetime) -> list[InboxEvent]:
    """The inbox event log rows for labels added to and removed from one message, in that order."""
    changes = [(LABEL_ADDED, label) for label in added] + [(LABEL_REMOVED, label) for label in removed]
    return [
        InboxEvent(
            event_id=new_id("evt"),
            event_type=event_type,
            organization_id=message.organization_id,
            pod_id=message.pod_id,
            inbox_id=message.inbox_id,
            message_id=message.message_id,
            label=label,
            event_at=message.updated_at,
            created_at=now,
        )
        for event_type, label in changes
    ]
