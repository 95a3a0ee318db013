"""Outbox events: what happened, to which inbox, committed in the same transaction as the change itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

MESSAGE_RECEIVED = "message.received"


@dataclass(frozen=True)
class OutboxEvent:
    event_id: str
    event_type: str
    organization_id: str
    pod_id: str
    inbox_id: str
    subject_id: str  # the row the event is about (a message's row id for message.* events)
    created_at: datetime
