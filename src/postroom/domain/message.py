"""Messages, their attachments and threads as stored per inbox (spec §2: Message, Attachment, Thread)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class Attachment:
    attachment_id: str
    size: int
    filename: str | None
    content_type: str | None
    content_disposition: str | None
    content_id: str | None
    blob_key: str


@dataclass
class Message:
    row_id: str
    inbox_id: str
    organization_id: str
    pod_id: str
    thread_id: str
    message_id: str
    labels: list[str]
    timestamp: datetime
    from_: str
    to: list[str]
    cc: list[str]
    bcc: list[str]
    reply_to: list[str]
    subject: str | None
    preview: str | None
    text: str | None
    html: str | None
    extracted_text: str | None
    extracted_html: str | None
    in_reply_to: str | None
    references: list[str]
    headers: dict[str, str]
    size: int
    raw_blob_key: str
    created_at: datetime
    updated_at: datetime
    attachments: list[Attachment] = field(default_factory=list)


@dataclass
class Thread:
    thread_id: str
    inbox_id: str
    organization_id: str
    pod_id: str
    labels: list[str]
    timestamp: datetime
    received_timestamp: datetime | None
    sent_timestamp: datetime | None
    senders: list[str]
    recipients: list[str]
    subject: str | None
    preview: str | None
    last_message_id: str
    message_count: int
    size: int
    created_at: datetime
    updated_at: datetime
    attachments: list[Attachment] = field(default_factory=list)


def unique(values: list[str]) -> list[str]:
    """Non-empty values, first occurrence kept, in order."""
    return list(dict.fromkeys(value for value in values if value))


def summarize(thread: Thread, messages: list[Message]) -> None:
    """Recompute a thread's summary fields from all of its messages (oldest first)."""
    ordered = sorted(messages, key=lambda message: (message.timestamp, message.row_id))
    last = ordered[-1]
    received = [m.timestamp for m in ordered if "received" in m.labels]
    sent = [m.timestamp for m in ordered if "sent" in m.labels]
    thread.timestamp = last.timestamp
    thread.received_timestamp = max(received) if received else None
    thread.sent_timestamp = max(sent) if sent else None
    thread.senders = unique([m.from_ for m in ordered])
    thread.recipients = unique([address for m in ordered for address in (*m.to, *m.cc)])
    thread.labels = unique([label for m in ordered for label in m.labels])
    thread.subject = next((m.subject for m in ordered if m.subject), None)
    thread.preview = last.preview
    thread.last_message_id = last.message_id
    thread.message_count = len(ordered)
    thread.size = sum(m.size for m in ordered)
    thread.updated_at = max(m.updated_at for m in ordered)
