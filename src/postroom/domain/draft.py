"""Drafts (spec §2 Draft, §3.6): unsent messages of an inbox, their kind (plain, reply, forward) and send state."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from postroom.domain.message import Attachment

SCHEDULED = "scheduled"  # the label and the send_status of a draft with a send_at
SENDING = "sending"
FAILED = "failed"
# A draft claimed for sending longer ago than this is taken to be stranded by a crash and is claimed again.
SEND_LEASE = timedelta(minutes=10)


@dataclass
class Draft:
    draft_id: str
    organization_id: str
    pod_id: str
    inbox_id: str
    client_id: str | None
    labels: list[str]
    reply_to: list[str]
    to: list[str]
    cc: list[str]
    bcc: list[str]
    subject: str | None
    preview: str | None
    text: str | None
    html: str | None
    in_reply_to: str | None
    forward_of: str | None
    references: list[str]
    send_status: str | None
    send_at: datetime | None
    sending_since: datetime | None
    created_at: datetime
    updated_at: datetime
    attachments: list[Attachment] = field(default_factory=list)

    def send_in_progress(self, now: datetime) -> bool:
        """Claimed for sending and not yet stranded (a stranded claim may be edited or claimed again)."""
        return self.send_status == SENDING and self.sending_since is not None and self.sending_since > now - SEND_LEASE

    def schedule(self, send_at: datetime | None) -> None:
        """Set or clear ``send_at``; the ``scheduled`` label and send_status follow it."""
        self.send_at = send_at
        labels = [label for label in self.labels if label != SCHEDULED]
        if send_at is None:
            self.labels = labels
            self.send_status = None
        else:
            self.labels = [*labels, SCHEDULED]
            self.send_status = SCHEDULED
        self.sending_since = None
