"""Changing a stored message's labels, with the inbox event log row of each label added or removed (spec §3.14).

Every label change goes through here (user edits, delivery results, new messages), inside the transaction that
makes it, so the log misses none.
"""

from __future__ import annotations

from datetime import datetime

from postroom.domain.events import label_events
from postroom.domain.message import Message
from postroom.services.ports import UnitOfWork


def relabel(uow: UnitOfWork, message: Message, labels: list[str], now: datetime) -> bool:
    """Give the message exactly ``labels``; False (and nothing written) when they are what it has."""
    if labels == message.labels:
        return False
    added = [label for label in labels if label not in message.labels]
    removed = sorted(set(message.labels) - set(labels))
    message.labels = labels
    message.updated_at = now
    uow.mail.set_labels(message)
    uow.inbox_events.add_many(label_events(message, added, removed, now))
    return True


def log_new_message_labels(uow: UnitOfWork, message: Message, now: datetime) -> None:
    """A newly stored message's labels are each logged as added."""
    uow.inbox_events.add_many(label_events(message, message.labels, [], now))
