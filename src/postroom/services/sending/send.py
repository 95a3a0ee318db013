"""Sending mail from an inbox: send, reply, reply-all and forward (spec §3.5), with Idempotency-Key (§1.8).

The composed, DKIM-signed message is stored in the sender's thread labelled ``sent``, and one delivery job per
recipient domain is committed with it; the delivery worker takes it from there.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from postroom.domain import labels as system
from postroom.domain.access import Principal
from postroom.domain.events import MESSAGE_SENT, OutboxEvent
from postroom.domain.ids import new_id
from postroom.domain.inbox import Inbox, InboxStatus
from postroom.domain.labels import forbidden_labels
from postroom.domain.message import Attachment, Message
from postroom.domain.outbound import IdempotencyRecord, OutboundJob, recipient_domain
from postroom.domain.return_path import ReturnPaths
from postroom.errors import Conflict, InvalidInput, NotFound
from postroom.mime.addresses import display_form
from postroom.mime.compose import HeaderError, Outgoing, OutgoingAttachment, compose, new_message_id
from postroom.mime.parse import parse_message
from postroom.services.access.authentication import require
from postroom.services.access.scopes import visible_inbox
from postroom.services.domains.hosting import HostedDomains
from postroom.services.mail.filing import blob_prefix, file_in_thread, write_blobs
from postroom.services.outbox import commit_and_wake
from postroom.services.ports import (
    AttachmentFetcher,
    BlobStore,
    Clock,
    MessageSigner,
    UnitOfWork,
    UnitOfWorkFactory,
    Wakeups,
)
from postroom.services.sending.composition import Composition, forward_composition, reply_composition
from postroom.services.sending.outgoing import (
    SendRequest,
    check_addresses,
    check_headers,
    check_labels,
    envelope_recipients,
    load_attachments,
    rejected,
)
from postroom.services.trust.lists import evaluate

IDEMPOTENCY_LIFETIME = timedelta(hours=24)
_IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9._~-]{1,256}")


@dataclass(frozen=True)
class SentRef:
    message_id: str
    thread_id: str

    def ids(self) -> tuple[str, str]:
        return self.message_id, self.thread_id


@dataclass(frozen=True)
class OutboundSettings:
    return_paths: ReturnPaths
    retry_window: timedelta
    max_fetch_bytes: int


def check_idempotency_key(key: str | None) -> str | None:
    if key is None:
        return None
    if not _IDEMPOTENCY_KEY.fullmatch(key):
        raise InvalidInput("Idempotency-Key must be 1-256 characters of A-Z a-z 0-9 - . _ ~", field="Idempotency-Key")
    return key


def remember(uow: UnitOfWork, record: IdempotencyRecord) -> None:
    """Record a send's Idempotency-Key, replacing an expired record of the same key."""
    uow.idempotency.forget_before(record.organization_id, record.key, record.created_at - IDEMPOTENCY_LIFETIME)
    uow.idempotency.put(record)


def sender_address(inbox: Inbox) -> str:
    return display_form(inbox.display_name or "", inbox.inbox_id)


class SendService:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        blobs: BlobStore,
        signer: MessageSigner,
        fetcher: AttachmentFetcher,
        settings: OutboundSettings,
        clock: Clock,
        wakeups: Wakeups,
        hosted: HostedDomains,
    ) -> None:
        self._clock = clock
        self._wakeups = wakeups
        self._hosted = hosted
        self._uow = uow_factory
        self._blobs = blobs
        self._signer = signer
        self._fetcher = fetcher
        self._settings = settings

    def send(self, principal: Principal, inbox_id: str, request: SendRequest, idempotency_key: str | None) -> SentRef:
        require(principal, "message_send")
        key = check_idempotency_key(idempotency_key)
        with self._uow() as uow:
            inbox = visible_inbox(uow, principal, inbox_id)
        fingerprint = request.fingerprint("send", inbox.inbox_id)
        if (replayed := self._replay(principal.organization_id, key, fingerprint)) is not None:
            return replayed
        composition = Composition(
            to=check_addresses(request.to, "to"),
            cc=check_addresses(request.cc, "cc"),
            bcc=check_addresses(request.bcc, "bcc"),
            reply_to=check_addresses(request.reply_to, "reply_to"),
            subject=request.subject,
            text=request.text,
            html=request.html,
            labels=check_labels(request.labels),
            attachments=self.load_attachments(request),
            headers=check_headers(request.headers),
        )
        return self.submit(inbox, composition, key, fingerprint)

    def reply(
        self,
        principal: Principal,
        inbox_id: str,
        message_id: str,
        request: SendRequest,
        idempotency_key: str | None,
        *,
        reply_all: bool,
    ) -> SentRef:
        require(principal, "message_reply")
        key = check_idempotency_key(idempotency_key)
        inbox, original = self._original(principal, inbox_id, message_id)
        fingerprint = request.fingerprint("reply-all" if reply_all else "reply", inbox.inbox_id, message_id)
        if (replayed := self._replay(principal.organization_id, key, fingerprint)) is not None:
            return replayed
        composition = reply_composition(inbox, original, request, reply_all=reply_all)
        composition = replace(composition, attachments=self.load_attachments(request))
        return self.submit(inbox, composition, key, fingerprint)

    def forward(
        self, principal: Principal, inbox_id: str, message_id: str, request: SendRequest, idempotency_key: str | None
    ) -> SentRef:
        require(principal, "message_send")
        key = check_idempotency_key(idempotency_key)
        inbox, original = self._original(principal, inbox_id, message_id)
        fingerprint = request.fingerprint("forward", inbox.inbox_id, message_id)
        if (replayed := self._replay(principal.organization_id, key, fingerprint)) is not None:
            return replayed
        composition = forward_composition(original, request)
        attachments = [*self.stored_attachments(original.attachments), *self.load_attachments(request)]
        return self.submit(inbox, replace(composition, attachments=attachments), key, fingerprint)

    def stored_attachments(self, attachments: Sequence[Attachment]) -> list[OutgoingAttachment]:
        """Stored attachments (of a message being forwarded, or of a draft) read back from the blob store."""
        loaded = []
        for attachment in attachments:
            with self._blobs.open(attachment.blob_key) as stream:
                content = stream.read()
            loaded.append(
                OutgoingAttachment(
                    content=content,
                    filename=attachment.filename,
                    content_type=attachment.content_type,
                    content_disposition=attachment.content_disposition,
                    content_id=attachment.content_id,
                )
            )
        return loaded

    def load_attachments(self, request: SendRequest, field_name: str = "attachments") -> list[OutgoingAttachment]:
        return load_attachments(request.attachments, self._fetcher, self._settings.max_fetch_bytes, field_name)

    def replayed(self, organization_id: str, key: str | None, fingerprint: str) -> SentRef | None:
        """The first result of an earlier request with this Idempotency-Key (409 when that request differed)."""
        return self._replay(organization_id, key, fingerprint)

    def _original(self, principal: Principal, inbox_id: str, message_id: str) -> tuple[Inbox, Message]:
        with self._uow() as uow:
            inbox = visible_inbox(uow, principal, inbox_id)
            original = uow.mail.get_message(inbox.inbox_id, message_id)
        if original is None or forbidden_labels(principal) & set(original.labels):
            raise NotFound("Message not found")
        return inbox, original

    def _replay(self, organization_id: str, key: str | None, fingerprint: str) -> SentRef | None:
        """The first result of an Idempotency-Key used before with the same request; 409 for a different one."""
        if key is None:
            return None
        with self._uow() as uow:
            found = uow.idempotency.get(organization_id, key)
        if found is None or found.created_at < self._clock.now() - IDEMPOTENCY_LIFETIME:
            return None
        if found.fingerprint != fingerprint:
            raise Conflict("This Idempotency-Key was used for a different request", code="conflict")
        return SentRef(message_id=found.message_id, thread_id=found.thread_id)

    def submit(self, inbox: Inbox, composition: Composition, key: str | None = None, fingerprint: str = "") -> SentRef:
        """Compose, sign and store the message with its delivery jobs in one transaction, then wake the worker."""
        if inbox.status is InboxStatus.PAUSED:
            raise rejected("The inbox is paused and cannot send")
        recipients = envelope_recipients(composition.to, composition.cc, composition.bcc)
        with self._uow() as uow:
            identity = self._hosted.sending_identity(uow, inbox)
            if identity is None:
                raise rejected(
                    f"{inbox.domain} is no longer a verified domain of this server, so its inboxes cannot send"
                )
            for address in recipients:
                decision = evaluate(uow, inbox, "send", address)
                if not decision.allowed:
                    raise rejected(decision.reason)
        now = self._clock.now()
        try:
            raw = self._compose(inbox, composition, now)
        except HeaderError as error:
            raise InvalidInput(str(error)) from error
        signed = self._signer.sign(raw, identity.signing_domain, identity.key)
        parsed = parse_message(signed, fallback_domain=inbox.domain)
        row_id = new_id("msg")
        labels = list(dict.fromkeys([system.SENT, *composition.labels]))
        try:
            message = write_blobs(self._blobs, row_id, inbox, parsed, signed, labels, now)
            message.bcc = composition.bcc
            with self._uow(write=True) as uow:
                if uow.inboxes.get(inbox.inbox_id) is None:
                    raise NotFound("Inbox not found")
                file_in_thread(uow, message)
                self._queue(uow, message, recipients, identity.return_path_host)
                if key is not None:
                    record = IdempotencyRecord(
                        inbox.organization_id, key, fingerprint, message.message_id, message.thread_id, now
                    )
                    remember(uow, record)
                commit_and_wake(uow, self._wakeups)
        except Conflict:
            self._blobs.delete_prefix(blob_prefix(inbox.inbox_id, row_id))
            replayed = self._replay(inbox.organization_id, key, fingerprint)
            if replayed is None:
                raise
            return replayed
        except BaseException:
            self._blobs.delete_prefix(blob_prefix(inbox.inbox_id, row_id))
            raise
        self._wakeups.jobs_queued()
        return SentRef(message_id=message.message_id, thread_id=message.thread_id)

    @staticmethod
    def _compose(inbox: Inbox, composition: Composition, now: datetime) -> bytes:
        return compose(
            Outgoing(
                message_id=new_message_id(inbox.domain),
                date=now,
                from_=sender_address(inbox),
                to=composition.to,
                cc=composition.cc,
                bcc=composition.bcc,
                reply_to=composition.reply_to,
                subject=composition.subject,
                text=composition.text,
                html=composition.html,
                attachments=composition.attachments,
                headers=composition.headers,
                in_reply_to=composition.in_reply_to,
                references=composition.references,
            )
        )

    def _queue(self, uow: UnitOfWork, message: Message, recipients: list[str], bounce_host: str | None) -> None:
        now = message.created_at
        uow.outbound_jobs.add_recipients(message.row_id, recipients, now)
        by_domain: dict[str, list[str]] = {}
        for address in recipients:
            by_domain.setdefault(recipient_domain(address), []).append(address)
        for domain, addresses in by_domain.items():
            uow.outbound_jobs.add_job(
                OutboundJob(
                    job_id=new_id("job"),
                    row_id=message.row_id,
                    inbox_id=message.inbox_id,
                    organization_id=message.organization_id,
                    domain=domain,
                    mail_from=self._settings.return_paths.address(message.row_id, bounce_host),
                    recipients=addresses,
                    attempts=0,
                    next_attempt_at=now,
                    expires_at=now + self._settings.retry_window,
                    created_at=now,
                )
            )
        uow.outbox.add(
            OutboxEvent(
                event_id=new_id("evt"),
                event_type=MESSAGE_SENT,
                organization_id=message.organization_id,
                pod_id=message.pod_id,
                inbox_id=message.inbox_id,
                message_row_id=message.row_id,
                created_at=now,
                data={"recipients": recipients},
            )
        )
