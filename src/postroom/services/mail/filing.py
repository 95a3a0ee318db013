"""Filing one message into an inbox: its blobs (raw bytes, attachments) and its place in a thread.

Shared by receiving (SMTP ingress, local delivery) and sending: both parse the exact bytes and store them the same
way, so a sent message reads back like a received one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from postroom.domain.ids import new_id
from postroom.domain.inbox import Inbox
from postroom.domain.message import Attachment, Message, absorb, start_thread, unique
from postroom.domain.search import message_document
from postroom.mime.extract import extract_html, extract_text
from postroom.mime.html import html_to_text
from postroom.mime.parse import ParsedMessage
from postroom.services.mail.labels import log_new_message_labels
from postroom.services.metrics import usage
from postroom.services.ports import BlobStore, UnitOfWork


@dataclass(frozen=True)
class StoredBlobs:
    """Where a message's raw bytes and attachments were written."""

    raw_key: str
    attachments: list[Attachment]


def store_blobs(blobs: BlobStore, prefix: str, parsed: ParsedMessage, raw: bytes, *, trace: bytes = b"") -> StoredBlobs:
    """Write the raw bytes (under the header lines ``trace``) and each attachment durably under ``prefix``."""
    raw_key = f"{prefix}/raw.eml"
    blobs.put(raw_key, [trace, raw] if trace else [raw])
    attachments = []
    for part in parsed.attachments:
        attachment_id = new_id("att")
        key = f"{prefix}/{attachment_id}"
        size = blobs.put(key, [part.content])
        attachments.append(
            Attachment(
                attachment_id=attachment_id,
                size=size,
                filename=part.filename,
                content_type=part.content_type,
                content_disposition=part.content_disposition,
                content_id=part.content_id,
                blob_key=key,
            )
        )
    return StoredBlobs(raw_key, attachments)


def message_row(
    row_id: str,
    inbox: Inbox,
    parsed: ParsedMessage,
    stored: StoredBlobs,
    size: int,
    labels: list[str],
    now: datetime,
    from_fallback: str | None = None,
) -> Message:
    """The message row of a parsed message whose blobs are ``stored``."""
    return Message(
        row_id=row_id,
        inbox_id=inbox.inbox_id,
        organization_id=inbox.organization_id,
        pod_id=inbox.pod_id,
        thread_id="",
        message_id=parsed.message_id,
        labels=labels,
        timestamp=now,
        from_=parsed.from_ or (from_fallback or ""),
        to=parsed.to,
        cc=parsed.cc,
        bcc=parsed.bcc,
        reply_to=parsed.reply_to,
        subject=parsed.subject,
        preview=parsed.preview,
        text=parsed.text,
        html=parsed.html,
        extracted_text=extract_text(parsed.text) if parsed.text is not None else None,
        extracted_html=extract_html(parsed.html) if parsed.html is not None else None,
        in_reply_to=parsed.in_reply_to,
        references=parsed.references,
        headers=parsed.headers,
        size=size,
        raw_blob_key=stored.raw_key,
        created_at=now,
        updated_at=now,
        attachments=stored.attachments,
    )


def write_blobs(
    blobs: BlobStore,
    row_id: str,
    inbox: Inbox,
    parsed: ParsedMessage,
    raw: bytes,
    labels: list[str],
    now: datetime,
    from_fallback: str | None = None,
) -> Message:
    """Write the raw bytes and each attachment durably, and return the message row that refers to them."""
    stored = store_blobs(blobs, blob_prefix(inbox.inbox_id, row_id), parsed, raw)
    return message_row(row_id, inbox, parsed, stored, len(raw), labels, now, from_fallback)


def blob_prefix(inbox_id: str, row_id: str) -> str:
    return f"inbox/{inbox_id}/{row_id}"


def file_in_thread(uow: UnitOfWork, message: Message) -> None:
    """Add the message to the thread its Message-ID, In-Reply-To or References name, or to a new thread.

    The message is indexed for search and its labels are logged as added in the inbox event log.
    """
    referenced = unique([*message.references, message.in_reply_to or ""])
    keys = unique([message.message_id, *referenced])
    # Without the lock a message and its reply filed at the same moment each miss the other and start two threads.
    uow.mail.lock_thread_keys(message.inbox_id, keys)
    thread_id = uow.mail.thread_for_keys(message.inbox_id, keys)
    thread = uow.mail.lock_thread(thread_id) if thread_id else None
    new_thread = thread is None
    if thread is None:
        thread = start_thread(new_id("thd"), message)
        absorb(thread, message)
        uow.mail.add_thread(thread)  # written once, already holding its first message
    message.thread_id = thread.thread_id
    uow.mail.add_message(message, message_document(message, html_to_text))
    usage.message_filed(uow, message, new_thread=new_thread)
    log_new_message_labels(uow, message, message.created_at)
    uow.mail.add_thread_keys(message.inbox_id, keys, thread.thread_id)
    if not new_thread:
        absorb(thread, message)
        uow.mail.update_thread(thread)
