"""Receiving mail: which addresses accept it, and storing one copy per inbox (blobs, message, thread, outbox).

Before anything is stored the message is screened (authentication, spam; ``services.trust.screening``): a refusal
stores nothing. The raw bytes, with the verdict headers on top, and the attachments are written durably to the blob
store first; the message, thread and outbox rows are then committed in one transaction, which concurrent
deliveries share (``group_commit``). Only after that commit may a transport acknowledge the mail.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

from postroom.domain.events import OutboxEvent
from postroom.domain.ids import new_id
from postroom.domain.inbox import Inbox, InboxStatus
from postroom.domain.message import Message, unique
from postroom.domain.outbound import DeliveryResult
from postroom.domain.return_path import ReturnPaths
from postroom.errors import Conflict, Forbidden, NotFound
from postroom.mime.dsn import is_permanent_failure, parse_dsn
from postroom.mime.parse import ParsedMessage, parse_message
from postroom.services.domains.hosting import HostedDomains
from postroom.services.mail.filing import StoredBlobs, blob_prefix, file_in_thread, message_row, store_blobs
from postroom.services.mail.group_commit import GroupCommit
from postroom.services.mail.roles import recipient_key, role_address
from postroom.services.mail.trace import SmtpHop, header_block, trace_fields
from postroom.services.outbox import commit_and_wake
from postroom.services.ports import BlobStore, Clock, UnitOfWork, UnitOfWorkFactory, Wakeups
from postroom.services.sending.outcomes import apply_results
from postroom.services.trust.authentication import Connection
from postroom.services.trust.screening import Classification, Screened, Screening, classify


@dataclass(frozen=True)
class FromInbox:
    """Mail that an inbox of this server sent (local delivery): authenticated by construction."""

    sender_inbox: str


@dataclass(frozen=True)
class InboundMessage:
    """A message that arrived (over SMTP, or from another inbox here) for one or more inboxes."""

    raw: bytes
    mail_from: str | None
    inbox_ids: list[str]
    origin: Connection | FromInbox  # the SMTP client it came from, or the inbox of this server that sent it
    hop: SmtpHop | None = None  # the SMTP transaction it arrived in (None: delivered from an inbox here)


def inbox_address(recipient: str) -> str:
    """``User+tag@Domain`` → ``user@domain``: the inbox a recipient address delivers to."""
    address = recipient.strip().removeprefix("<").removesuffix(">").lower()
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        raise NotFound("No such mailbox")
    return f"{local.split('+', 1)[0]}@{domain}"


class ReceiveService:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        blobs: BlobStore,
        default_domain: str,
        return_paths: ReturnPaths,
        screening: Screening,
        clock: Clock,
        wakeups: Wakeups,
        hosted: HostedDomains,
        postmaster_inbox: str,
        concurrent_commits: int = 1,
    ) -> None:
        self._hosted = hosted
        self.postmaster_inbox = postmaster_inbox
        self._clock = clock
        self._wakeups = wakeups
        self._uow = uow_factory
        self._blobs = blobs
        self._domain = default_domain
        self._return_paths = return_paths
        self._screening = screening
        # This process's filings share transactions, at most ``concurrent_commits`` at once.
        self.filings = GroupCommit(uow_factory, wakeups, concurrency=concurrent_commits)

    def accept_recipient(self, recipient: str) -> str:
        """The inbox id mail to ``recipient`` is stored in; NotFound for unknown, Forbidden for paused inboxes."""
        address = recipient_key(recipient) or inbox_address(recipient)
        if self.returned_message(address) is not None:
            return address
        with self._uow() as uow:
            inbox = self.recipient_inbox(uow, address)
        if inbox is None:
            raise NotFound("No such mailbox")
        if inbox.status is InboxStatus.PAUSED:
            raise Forbidden("Mailbox is paused", code="inbox_paused")
        return inbox.inbox_id

    def recipient_inbox(self, uow: UnitOfWork, address: str) -> Inbox | None:
        """The inbox receiving mail for ``address`` (as ``inbox_address`` gives it), or None when none does.

        Role addresses at a hosted domain go to the operator's inbox. An inbox whose custom domain was deleted (or
        is not receiving) keeps its mail but gets no more.
        """
        if role_address(address):
            host = address.rpartition("@")[2]
            if "@" not in address or self._hosted.receives_at(uow, host):
                return uow.inboxes.get(self.postmaster_inbox)
        inbox = uow.inboxes.get(address)
        if inbox is None or not self._hosted.receives(uow, inbox):
            return None
        return inbox

    def returned_message(self, address: str) -> str | None:
        """The sent message's row a return-path (VERP) address of ours names, or None for any other address."""
        return self._return_paths.message_row(address)

    def _record_bounce(self, row_id: str, raw: bytes) -> None:
        """A DSN (RFC 3464) returned to a message's return path bounces the recipients it reports as failed.

        Only recipients the message was really sent to count, so a forged report cannot touch other addresses.
        """
        report = parse_dsn(raw)
        if report is None:
            return
        with self._uow(write=True) as uow:
            message = uow.mail.get_message_row(row_id, lock=True)
            if message is None:
                return
            sent_to = uow.outbound_jobs.recipient_states(row_id)
            results = [
                DeliveryResult(r.address, "permanent", None, f"{r.status} {r.diagnostic or ''}".strip())
                for r in report.recipients
                if is_permanent_failure(r) and r.address in sent_to
            ]
            if results:
                apply_results(uow, message, results, self._clock.now(), give_up=True)
                commit_and_wake(uow, self._wakeups)

    def screen(self, inbound: InboundMessage) -> Screened:
        """The verdict on the message; raises ``Refused`` when it must be refused at the end of DATA."""
        if isinstance(inbound.origin, FromInbox):
            return self._screening.from_inbox(inbound.origin.sender_inbox)
        return self._screening.from_smtp(inbound.raw, inbound.mail_from, inbound.inbox_ids, inbound.origin)

    def store(self, inbound: InboundMessage) -> list[str]:
        """Store the message once in each inbox; returns the stored row ids (a duplicate Message-ID is skipped).

        Raises ``Refused`` (nothing stored) when the screening refuses it (DMARC reject, spam reject).
        """
        bounces = [row for inbox_id in unique(inbound.inbox_ids) if (row := self.returned_message(inbox_id))]
        for returned in bounces:
            self._record_bounce(returned, inbound.raw)
        inbox_ids = [inbox_id for inbox_id in unique(inbound.inbox_ids) if self.returned_message(inbox_id) is None]
        if not inbox_ids:
            return []
        screened = self.screen(inbound)
        fields = trace_fields(inbound.mail_from, inbound.hop, self._clock.now(), screened.trace)
        # Stored and parsed as trace + raw without joining them: a 20 MB message is not copied to add a few lines.
        trace = header_block(inbound.raw, fields)
        parsed = parse_message(inbound.raw, fallback_domain=self._domain, prefix=trace)
        if parsed.message_id_generated:
            # Derived from the sender's bytes, so a sender's retry of the same message is recognised as a duplicate.
            digest = hashlib.sha256(inbound.raw).hexdigest()[:32]
            parsed = replace(parsed, message_id=f"<{digest}@{self._domain}>")
        stored = []
        for inbox_id in inbox_ids:
            row_id = self._store_one(inbox_id, parsed, trace, inbound.raw, inbound.mail_from, screened)
            if row_id is not None:
                stored.append(row_id)
        return stored

    def _store_one(
        self,
        inbox_id: str,
        parsed: ParsedMessage,
        trace: bytes,
        raw: bytes,
        mail_from: str | None,
        screened: Screened,
    ) -> str | None:
        row_id = new_id("msg")
        prefix = blob_prefix(inbox_id, row_id)
        try:
            # Blobs first, outside the shared transaction (their fsyncs would hold every filing behind them); a
            # duplicate or an inbox gone meanwhile, found inside it, only costs deleting them again.
            stored = store_blobs(self._blobs, prefix, parsed, raw, trace=trace)
            size = len(trace) + len(raw)
            filed = self.filings.run(
                lambda uow: self._file_new(uow, inbox_id, row_id, parsed, stored, size, mail_from, screened)
            )
        except Conflict:
            self._blobs.delete_prefix(prefix)
            with self._uow() as uow:
                if uow.mail.message_exists(inbox_id, parsed.message_id):
                    return None  # a concurrent delivery of the same message won
            raise
        except BaseException:
            self._blobs.delete_prefix(prefix)
            raise
        if not filed:
            self._blobs.delete_prefix(prefix)
            return None
        return row_id

    def _file_new(
        self,
        uow: UnitOfWork,
        inbox_id: str,
        row_id: str,
        parsed: ParsedMessage,
        stored: StoredBlobs,
        size: int,
        mail_from: str | None,
        screened: Screened,
    ) -> bool:
        """File the message unless its inbox is paused or holds that Message-ID already; NotFound when the inbox was
        deleted since RCPT (the sender is told to try again, and its retry is refused at RCPT: a bounce, not a loss)."""
        inbox = uow.inboxes.get(inbox_id)
        if inbox is None:
            raise NotFound("Inbox was deleted")
        if inbox.status is InboxStatus.PAUSED:
            return False  # paused since RCPT: paused mail is not delivered later
        if uow.mail.message_exists(inbox_id, parsed.message_id):
            return False
        sender = parsed.from_address or (mail_from or "").strip("<>") or None
        classification = classify(uow, inbox, screened, sender, parsed.in_reply_to)
        now = self._clock.now()
        message = message_row(row_id, inbox, parsed, stored, size, classification.labels, now, mail_from)
        message.authentication_results = screened.trace[0][1]
        if screened.spam is not None:
            message.spam_action, message.spam_score = screened.spam.action, screened.spam.score
        self._file(uow, message, classification)
        return True

    @staticmethod
    def _file(uow: UnitOfWork, message: Message, classification: Classification) -> None:
        file_in_thread(uow, message)
        uow.outbox.add(
            OutboxEvent(
                event_id=new_id("evt"),
                event_type=classification.event_type,
                organization_id=message.organization_id,
                pod_id=message.pod_id,
                inbox_id=message.inbox_id,
                message_row_id=message.row_id,
                created_at=message.created_at,
            )
        )
