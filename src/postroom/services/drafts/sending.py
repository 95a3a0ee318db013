"""Sending drafts (spec §3.6): on request (``drafts.send``) and when a scheduled draft's ``send_at`` has passed.

A draft is claimed by setting send_status ``sending`` (the lease) in its own transaction, turned into a message by
``SendService.submit`` under an idempotency key of its own (so a send retried after a crash cannot go out twice),
and deleted. A failed scheduled send leaves the draft in place with send_status ``failed``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import replace
from datetime import datetime

from postroom.domain.draft import FAILED, SCHEDULED, SEND_LEASE, SENDING, Draft
from postroom.domain.inbox import Inbox
from postroom.domain.outbound import IdempotencyRecord
from postroom.errors import Conflict, NotFound
from postroom.services.ports import BlobStore, Clock, UnitOfWorkFactory
from postroom.services.sending.composition import Composition, forward_composition
from postroom.services.sending.outgoing import SendRequest, check_labels
from postroom.services.sending.send import SendService, SentRef, remember

log = logging.getLogger("postroom.drafts")


def draft_blob_prefix(inbox_id: str, draft_id: str) -> str:
    return f"inbox/{inbox_id}/{draft_id}"


def _own_key(draft: Draft) -> str:
    """The idempotency key of sending this version of a draft; ":" keeps it apart from every key a caller may choose.

    A send retried after a crash replays the first one; a draft edited after a half-finished send is a new message.
    """
    return f"draft:{draft.draft_id}:{draft.updated_at.isoformat()}"


def _fingerprint(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()


class DraftSender:
    def __init__(self, uow_factory: UnitOfWorkFactory, blobs: BlobStore, send: SendService, clock: Clock) -> None:
        self._clock = clock
        self._uow = uow_factory
        self._blobs = blobs
        self._send = send

    def send(self, inbox: Inbox, draft_id: str, add: list[str], remove: list[str], key: str | None) -> SentRef:
        """Send one draft now; the caller's Idempotency-Key ``key`` replays the first result of the same request."""
        add, remove = check_labels(add, "add_labels"), check_labels(remove, "remove_labels")
        fingerprint = _fingerprint("drafts.send", inbox.inbox_id, draft_id, add, remove)
        if (replayed := self._send.replayed(inbox.organization_id, key, fingerprint)) is not None:
            return replayed
        now = self._clock.now()
        with self._uow(write=True) as uow:
            draft = uow.drafts.get(draft_id, lock=True)
            if draft is None or draft.inbox_id != inbox.inbox_id:
                raise NotFound("Draft not found")
            if draft.send_in_progress(now):
                raise Conflict("This draft is being sent", code="conflict")
            before = draft.send_status if draft.send_status != SENDING else (SCHEDULED if draft.send_at else None)
            draft.send_status, draft.sending_since = SENDING, now
            uow.drafts.update(draft)
            uow.commit()
        try:
            return self._deliver(inbox, draft, add, remove, (key, fingerprint) if key else None)
        except BaseException:
            self._release(draft.draft_id, now, before)
            raise

    def send_due(self, limit: int = 20) -> int:
        """Send drafts whose send_at has passed (and sends stranded by a crash); returns how many went out."""
        now = self._clock.now()
        with self._uow(write=True) as uow:
            claimed = uow.drafts.claim_due(now, now - SEND_LEASE, limit)
            uow.commit()
        sent = 0
        for draft in claimed:
            try:
                with self._uow() as uow:
                    inbox = uow.inboxes.get(draft.inbox_id)
                if inbox is None:
                    continue  # deleted with its inbox meanwhile
                self._deliver(inbox, draft, [], [], None)
                sent += 1
            except Exception as error:
                log.warning("scheduled draft %s was not sent: %s", draft.draft_id, error)
                self._release(draft.draft_id, now, FAILED)
        return sent

    def _deliver(
        self, inbox: Inbox, draft: Draft, add: list[str], remove: list[str], caller_key: tuple[str, str] | None
    ) -> SentRef:
        own_fingerprint = _fingerprint("drafts.send", draft.draft_id)
        sent = self._send.replayed(inbox.organization_id, _own_key(draft), own_fingerprint)
        if sent is None:
            composition = self._composition(inbox, draft, add, remove)
            sent = self._send.submit(inbox, composition, _own_key(draft), own_fingerprint)
        with self._uow(write=True) as uow:
            uow.drafts.delete(draft.draft_id)
            if caller_key is not None:
                key, fingerprint = caller_key
                remember(
                    uow, IdempotencyRecord(inbox.organization_id, key, fingerprint, *sent.ids(), self._clock.now())
                )
            uow.commit()
        self._blobs.delete_prefix(draft_blob_prefix(draft.inbox_id, draft.draft_id))
        return sent

    def _release(self, draft_id: str, claimed_at: datetime, status: str | None) -> None:
        """Give up a claim (if still ours): back to ``status``; a failed draft is no longer scheduled."""
        with self._uow(write=True) as uow:
            draft = uow.drafts.get(draft_id, lock=True)
            if draft is None or draft.send_status != SENDING or draft.sending_since != claimed_at:
                return
            draft.send_status, draft.sending_since = status, None
            if status == FAILED:
                draft.labels = [label for label in draft.labels if label != SCHEDULED]
                draft.updated_at = self._clock.now()
            uow.drafts.update(draft)
            uow.commit()

    def _composition(self, inbox: Inbox, draft: Draft, add: list[str], remove: list[str]) -> Composition:
        """The message a draft becomes: its own labels (not ``scheduled``) plus ``add`` minus ``remove``."""
        kept = [label for label in dict.fromkeys([*draft.labels, *add]) if label != SCHEDULED]
        labels = [label for label in kept if label not in remove]
        attachments = self._send.stored_attachments(draft.attachments)
        if draft.forward_of is None:
            return Composition(
                to=draft.to,
                cc=draft.cc,
                bcc=draft.bcc,
                reply_to=draft.reply_to,
                subject=draft.subject,
                text=draft.text,
                html=draft.html,
                labels=labels,
                attachments=attachments,
                headers={},
                in_reply_to=draft.in_reply_to,
                references=draft.references,
            )
        with self._uow() as uow:
            original = uow.mail.get_message(inbox.inbox_id, draft.forward_of)
        if original is None:
            raise NotFound("The message this draft forwards no longer exists")
        request = SendRequest(
            to=draft.to,
            cc=draft.cc,
            bcc=draft.bcc,
            reply_to=draft.reply_to,
            subject=draft.subject,
            text=draft.text,
            html=draft.html,
            labels=labels,
        )
        composition = forward_composition(original, request)
        return replace(composition, attachments=[*self._send.stored_attachments(original.attachments), *attachments])
