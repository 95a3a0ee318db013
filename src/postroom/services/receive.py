"""Receiving mail: which addresses accept it, and storing one copy per inbox (blobs, message, thread, outbox).

The raw bytes and attachments are written durably to the blob store first; the message, thread and outbox rows
are then committed in one transaction. Only after that commit may a transport acknowledge the mail.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

from postroom.domain import labels
from postroom.domain.clock import utcnow
from postroom.domain.events import MESSAGE_RECEIVED, OutboxEvent
from postroom.domain.ids import new_id
from postroom.domain.inbox import Inbox, InboxStatus
from postroom.domain.message import Attachment, Message, absorb, start_thread, unique
from postroom.errors import Conflict, Forbidden, NotFound
from postroom.mime.extract import extract_html, extract_text
from postroom.mime.parse import ParsedMessage, parse_message
from postroom.services.ports import BlobStore, UnitOfWork, UnitOfWorkFactory


@dataclass(frozen=True)
class Delivery:
    raw: bytes
    mail_from: str | None
    inbox_ids: list[str]


def inbox_address(recipient: str) -> str:
    """``User+tag@Domain`` → ``user@domain``: the inbox a recipient address delivers to."""
    address = recipient.strip().removeprefix("<").removesuffix(">").lower()
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        raise NotFound("No such mailbox")
    return f"{local.split('+', 1)[0]}@{domain}"


class ReceiveService:
    def __init__(self, uow_factory: UnitOfWorkFactory, blobs: BlobStore, default_domain: str) -> None:
        self._uow = uow_factory
        self._blobs = blobs
        self._domain = default_domain

    def accept_recipient(self, recipient: str) -> str:
        """The inbox id mail to ``recipient`` is stored in; NotFound for unknown, Forbidden for paused inboxes."""
        inbox_id = inbox_address(recipient)
        with self._uow() as uow:
            inbox = uow.inboxes.get(inbox_id)
        if inbox is None:
            raise NotFound("No such mailbox")
        if inbox.status is InboxStatus.PAUSED:
            raise Forbidden("Mailbox is paused", code="inbox_paused")
        return inbox.inbox_id

    def deliver(self, delivery: Delivery) -> list[str]:
        """Store the message once in each inbox; returns the stored row ids (a duplicate Message-ID is skipped)."""
        parsed = parse_message(delivery.raw, fallback_domain=self._domain)
        if parsed.message_id_generated:
            # Derived from the bytes, so a sender's retry of the same message is recognised as a duplicate.
            digest = hashlib.sha256(delivery.raw).hexdigest()[:32]
            parsed = replace(parsed, message_id=f"<{digest}@{self._domain}>")
        stored = []
        for inbox_id in unique(delivery.inbox_ids):
            row_id = self._deliver_one(inbox_id, parsed, delivery)
            if row_id is not None:
                stored.append(row_id)
        return stored

    def _deliver_one(self, inbox_id: str, parsed: ParsedMessage, delivery: Delivery) -> str | None:
        with self._uow() as uow:
            inbox = uow.inboxes.get(inbox_id)
            if inbox is None or inbox.status is InboxStatus.PAUSED:
                return None  # deleted or paused since RCPT: paused mail is not delivered later
            if uow.mail.message_exists(inbox_id, parsed.message_id):
                return None
        row_id = new_id("msg")
        prefix = f"inbox/{inbox_id}/{row_id}"
        try:
            message = self._write_blobs(prefix, row_id, inbox, parsed, delivery)
            with self._uow(write=True) as uow:
                if uow.inboxes.get(inbox_id) is None:
                    raise NotFound("Inbox was deleted")
                self._store(uow, message, parsed)
                uow.commit()
        except Conflict:
            self._blobs.delete_prefix(prefix)
            with self._uow() as uow:
                if uow.mail.message_exists(inbox_id, parsed.message_id):
                    return None  # a concurrent delivery of the same message won
            raise
        except BaseException:
            self._blobs.delete_prefix(prefix)
            raise
        return row_id

    def _write_blobs(
        self, prefix: str, row_id: str, inbox: Inbox, parsed: ParsedMessage, delivery: Delivery
    ) -> Message:
        raw_key = f"{prefix}/raw.eml"
        self._blobs.put(raw_key, [delivery.raw])
        attachments = []
        for part in parsed.attachments:
            attachment_id = new_id("att")
            key = f"{prefix}/{attachment_id}"
            size = self._blobs.put(key, [part.content])
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
        now = utcnow()
        return Message(
            row_id=row_id,
            inbox_id=inbox.inbox_id,
            organization_id=inbox.organization_id,
            pod_id=inbox.pod_id,
            thread_id="",
            message_id=parsed.message_id,
            labels=[labels.RECEIVED, labels.UNREAD],
            timestamp=now,
            from_=parsed.from_ or (delivery.mail_from or ""),
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
            size=len(delivery.raw),
            raw_blob_key=raw_key,
            created_at=now,
            updated_at=now,
            attachments=attachments,
        )

    @staticmethod
    def _store(uow: UnitOfWork, message: Message, parsed: ParsedMessage) -> None:
        referenced = unique([*parsed.references, parsed.in_reply_to or ""])
        keys = unique([message.message_id, *referenced])
        thread_id = uow.mail.thread_for_keys(message.inbox_id, keys)
        thread = uow.mail.lock_thread(thread_id) if thread_id else None
        if thread is None:
            thread = start_thread(new_id("thd"), message)
            uow.mail.add_thread(thread)
        message.thread_id = thread.thread_id
        uow.mail.add_message(message)
        uow.mail.add_thread_keys(message.inbox_id, keys, thread.thread_id)
        absorb(thread, message)
        uow.mail.update_thread(thread)
        uow.outbox.add(
            OutboxEvent(
                event_id=new_id("evt"),
                event_type=MESSAGE_RECEIVED,
                organization_id=message.organization_id,
                pod_id=message.pod_id,
                inbox_id=message.inbox_id,
                subject_id=message.row_id,
                created_at=message.created_at,
            )
        )
