"""Wire shapes of messages, threads and attachments (spec §2), shared by the API and the event payloads."""

from __future__ import annotations

from pydantic import AwareDatetime, Field

from postroom.domain.message import Attachment, Message, Thread
from postroom.wire.base import Response


class AttachmentOut(Response):
    attachment_id: str
    size: int
    filename: str | None = None
    content_type: str | None = None
    content_disposition: str | None = None
    content_id: str | None = None

    @classmethod
    def of(cls, attachment: Attachment) -> AttachmentOut:
        return cls(
            attachment_id=attachment.attachment_id,
            size=attachment.size,
            filename=attachment.filename,
            content_type=attachment.content_type,
            content_disposition=attachment.content_disposition,
            content_id=attachment.content_id,
        )


class MessageItemOut(Response):
    inbox_id: str
    thread_id: str
    message_id: str
    labels: list[str]
    timestamp: AwareDatetime
    from_: str = Field(serialization_alias="from")
    to: list[str]
    cc: list[str] | None = None
    bcc: list[str] | None = None
    subject: str | None = None
    preview: str | None = None
    attachments: list[AttachmentOut] | None = None
    in_reply_to: str | None = None
    references: list[str] | None = None
    headers: dict[str, str] | None = None
    size: int
    updated_at: AwareDatetime
    created_at: AwareDatetime

    @classmethod
    def fields_of(cls, message: Message) -> dict[str, object]:
        return {
            "inbox_id": message.inbox_id,
            "thread_id": message.thread_id,
            "message_id": message.message_id,
            "labels": message.labels,
            "timestamp": message.timestamp,
            "from_": message.from_,
            "to": message.to,
            "cc": message.cc or None,
            "bcc": message.bcc or None,
            "subject": message.subject,
            "preview": message.preview,
            "attachments": [AttachmentOut.of(item) for item in message.attachments] or None,
            "in_reply_to": message.in_reply_to,
            "references": message.references or None,
            "headers": message.headers or None,
            "size": message.size,
            "updated_at": message.updated_at,
            "created_at": message.created_at,
        }

    @classmethod
    def of(cls, message: Message) -> MessageItemOut:
        return cls.model_validate(cls.fields_of(message))


class MessageOut(MessageItemOut):
    reply_to: list[str] | None = None
    text: str | None = None
    html: str | None = None
    extracted_text: str | None = None
    extracted_html: str | None = None

    @classmethod
    def full(cls, message: Message, *, bodies: bool = True) -> MessageOut:
        fields = cls.fields_of(message)
        fields["reply_to"] = message.reply_to or None
        if bodies:
            fields |= {
                "text": message.text,
                "html": message.html,
                "extracted_text": message.extracted_text,
                "extracted_html": message.extracted_html,
            }
        return cls.model_validate(fields)


class ThreadItemOut(Response):
    inbox_id: str
    thread_id: str
    labels: list[str]
    timestamp: AwareDatetime
    received_timestamp: AwareDatetime | None = None
    sent_timestamp: AwareDatetime | None = None
    senders: list[str]
    recipients: list[str]
    subject: str | None = None
    preview: str | None = None
    attachments: list[AttachmentOut] | None = None
    last_message_id: str
    message_count: int
    size: int
    updated_at: AwareDatetime
    created_at: AwareDatetime

    @classmethod
    def fields_of(cls, thread: Thread) -> dict[str, object]:
        return {
            "inbox_id": thread.inbox_id,
            "thread_id": thread.thread_id,
            "labels": thread.labels,
            "timestamp": thread.timestamp,
            "received_timestamp": thread.received_timestamp,
            "sent_timestamp": thread.sent_timestamp,
            "senders": thread.senders,
            "recipients": thread.recipients,
            "subject": thread.subject,
            "preview": thread.preview,
            "attachments": [AttachmentOut.of(item) for item in thread.attachments] or None,
            "last_message_id": thread.last_message_id,
            "message_count": thread.message_count,
            "size": thread.size,
            "updated_at": thread.updated_at,
            "created_at": thread.created_at,
        }

    @classmethod
    def of(cls, thread: Thread) -> ThreadItemOut:
        return cls.model_validate(cls.fields_of(thread))
