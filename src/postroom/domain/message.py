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
    authentication_results: str | None = None  # inbound only: the verdict header Postroom wrote (RFC 8601)
    spam_action: str | None = None  # inbound only: the spam engine's action, when it classified the message
    spam_score: float | None = None


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


def start_thread(thread_id: str, first: Message) -> Thread:
    """An empty thread for ``first`` to be absorbed into."""
    return Thread(
        thread_id=thread_id,
        inbox_id=first.inbox_id,
        organization_id=first.organization_id,
        pod_id=first.pod_id,
        labels=[],
        timestamp=first.timestamp,
        received_timestamp=None,
        sent_timestamp=None,
        senders=[],
        recipients=[],
        subject=None,
        preview=None,
        last_message_id=first.message_id,
        message_count=0,
        size=0,
        created_at=first.created_at,
        updated_at=first.updated_at,
    )


def absorb(thread: Thread, message: Message) -> None:
    """Add ``message``, the newest of the thread so far, to its summary."""
    thread.timestamp = max(thread.timestamp, message.timestamp)
    if "received" in message.labels:
        thread.received_timestamp = max(filter(None, [thread.received_timestamp, message.timestamp]))
    if "sent" in message.labels:
        thread.sent_timestamp = max(filter(None, [thread.sent_timestamp, message.timestamp]))
    thread.senders = unique([*thread.senders, message.from_])
    thread.recipients = unique([*thread.recipients, *message.to, *message.cc])
    thread.labels = unique([*thread.labels, *message.labels])
    thread.subject = thread.subject or message.subject
    thread.preview = message.preview
    thread.last_message_id = message.message_id
    thread.message_count += 1
    thread.size += message.size
    thread.updated_at = max(thread.updated_at, message.updated_at)


def summarize(thread: Thread, messages: list[Message]) -> None:
    """Recompute a thread's summary from all of its messages (the thread keeps its id and created_at)."""
    ordered = sorted(messages, key=lambda message: (message.timestamp, message.row_id))
    fresh = start_thread(thread.thread_id, ordered[0])
    for message in ordered:
        absorb(fresh, message)
    fresh.created_at = thread.created_at
    fresh.attachments = thread.attachments
    vars(thread).update(vars(fresh))
