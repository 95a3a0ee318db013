"""Reading and organising received mail: messages and threads at inbox, pod and organization scope.

Listing, getting, label changes, deletes and download links; spam, blocked, unauthenticated and trash mail stays
hidden unless asked for by a key allowed to read it (spec §1.6, §5.1).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import BinaryIO

from postroom.domain.access import Principal
from postroom.domain.downloads import DownloadGrant, DownloadSigner
from postroom.domain.labels import LabelChange, forbidden_labels
from postroom.domain.listing import InboxScope, MailFilter
from postroom.domain.message import Attachment, Message, Thread, summarize
from postroom.domain.pagination import PageTokens
from postroom.domain.text import storable
from postroom.errors import InvalidInput, NotFound, Unprocessable
from postroom.services.access.authentication import require
from postroom.services.access.scopes import visible_inbox, visible_pod
from postroom.services.mail.labels import relabel
from postroom.services.metrics import usage
from postroom.services.paging import ListParams, Page, paginate
from postroom.services.ports import BlobStore, Clock, UnitOfWork, UnitOfWorkFactory

MAX_THREAD_LABEL_MESSAGES = 100
BATCH_GET_LIMIT = 500
BATCH_UPDATE_LIMIT = 50
DOWNLOAD_LIFETIME = timedelta(hours=1)


@dataclass(frozen=True)
class MailRoute:
    """Where a request came in: organization (no ids), a pod, or an inbox."""

    pod_id: str | None = None
    inbox_id: str | None = None


@dataclass(frozen=True)
class DownloadLink:
    attachment: Attachment
    expires_at: datetime
    token: str
    presigned_url: str | None


def scope_of(uow: UnitOfWork, principal: Principal, route: MailRoute) -> InboxScope:
    """The inboxes a route covers for the caller; an invisible pod or inbox is not found."""
    if route.inbox_id is not None:
        inbox = visible_inbox(uow, principal, route.inbox_id)
        return InboxScope(principal.organization_id, inbox.pod_id, inbox.inbox_id)
    if route.pod_id is not None:
        visible_pod(uow, principal, route.pod_id)
    return InboxScope(principal.organization_id, route.pod_id or principal.pod_id, principal.inbox_id)


class MailService:
    def __init__(
        self, uow_factory: UnitOfWorkFactory, tokens: PageTokens, blobs: BlobStore, signer: DownloadSigner, clock: Clock
    ) -> None:
        self._clock = clock
        self._uow = uow_factory
        self._tokens = tokens
        self._blobs = blobs
        self._signer = signer

    # -- resolution -------------------------------------------------------------------------------------------
    def _scope(self, uow: UnitOfWork, principal: Principal, route: MailRoute) -> InboxScope:
        return scope_of(uow, principal, route)

    def _message(
        self, uow: UnitOfWork, principal: Principal, inbox_id: str, message_id: str, *, lock: bool = False
    ) -> Message:
        """The message if the caller may see it. Its row carries its inbox's organization and pod, so the inbox is
        read only when the message is not there, to tell an unknown inbox from an unknown message."""
        message = uow.mail.get_message(inbox_id.lower(), message_id, lock=lock) if storable(inbox_id) else None
        if (
            message is None
            or message.organization_id != principal.organization_id
            or not principal.sees_inbox(message.pod_id, message.inbox_id)
            or forbidden_labels(principal) & set(message.labels)
        ):
            visible_inbox(uow, principal, inbox_id)
            raise NotFound("Message not found")
        return message

    def _thread(
        self, uow: UnitOfWork, principal: Principal, route: MailRoute, thread_id: str, *, lock: bool = False
    ) -> Thread:
        scope = self._scope(uow, principal, route)
        if lock and uow.mail.lock_thread(thread_id) is None:  # serialises label changes on one thread
            raise NotFound("Thread not found")
        thread = uow.mail.get_thread(thread_id)
        if (
            thread is None
            or thread.organization_id != scope.organization_id
            or (scope.pod_id is not None and thread.pod_id != scope.pod_id)
            or (scope.inbox_id is not None and thread.inbox_id != scope.inbox_id)
        ):
            raise NotFound("Thread not found")
        return thread

    # -- messages ---------------------------------------------------------------------------------------------
    def list_messages(
        self, principal: Principal, inbox_id: str, params: ListParams, mail_filter: MailFilter
    ) -> Page[Message]:
        require(principal, "message_read")
        with self._uow() as uow:
            inbox = visible_inbox(uow, principal, inbox_id)
            return paginate(
                self._tokens,
                f"messages.list:{inbox.inbox_id}",
                f"{mail_filter.fingerprint()}|{params.ascending}",
                params,
                lambda page: uow.mail.list_messages(inbox.inbox_id, mail_filter, page),
                lambda message: (message.timestamp.isoformat(), message.row_id),
            )

    def get_message(self, principal: Principal, inbox_id: str, message_id: str) -> Message:
        require(principal, "message_read")
        with self._uow(snapshot=False) as uow:  # one statement; a second only to name what a 404 misses
            return self._message(uow, principal, inbox_id, message_id)

    def batch_get(self, principal: Principal, inbox_id: str, message_ids: list[str]) -> list[Message]:
        """Messages in request order; missing or hidden ones are silently left out."""
        require(principal, "message_read")
        _check_batch(message_ids, BATCH_GET_LIMIT)
        found = []
        with self._uow() as uow:
            visible_inbox(uow, principal, inbox_id)
            for message_id in message_ids:
                try:
                    found.append(self._message(uow, principal, inbox_id, message_id))
                except NotFound:
                    continue
        return found

    def update_message(self, principal: Principal, inbox_id: str, message_id: str, change: LabelChange) -> Message:
        require(principal, "message_update")
        change = change.checked(principal)
        with self._uow(write=True) as uow:
            message = self._message(uow, principal, inbox_id, message_id, lock=True)
            if relabel(uow, message, change.applied_to(message.labels), self._clock.now()):
                uow.mail.refresh_thread(message.thread_id)
                uow.commit()
            return message

    def batch_update(
        self, principal: Principal, inbox_id: str, message_ids: list[str], change: LabelChange
    ) -> list[Message]:
        """All-or-nothing label change on up to 50 messages; missing ones are left out of the result."""
        require(principal, "message_update")
        _check_batch(message_ids, BATCH_UPDATE_LIMIT)
        change = change.checked(principal)
        if not change.add and not change.remove:
            raise InvalidInput("add_labels or remove_labels is required", field="add_labels")
        updated = []
        now = self._clock.now()
        with self._uow(write=True) as uow:
            visible_inbox(uow, principal, inbox_id)
            threads = set()
            for message_id in message_ids:
                try:
                    message = self._message(uow, principal, inbox_id, message_id, lock=True)
                except NotFound:
                    continue
                if relabel(uow, message, change.applied_to(message.labels), now):
                    threads.add(message.thread_id)
                updated.append(message)
            for thread_id in threads:
                uow.mail.refresh_thread(thread_id)
            uow.commit()
        return updated

    def delete_message(self, principal: Principal, inbox_id: str, message_id: str) -> None:
        require(principal, "message_delete")
        with self._uow(write=True) as uow:
            message = self._message(uow, principal, inbox_id, message_id, lock=True)
            prefixes = remove_messages(uow, [message], self._clock.now())
            uow.commit()
        delete_blobs(self._blobs, prefixes)

    def raw_link(self, principal: Principal, inbox_id: str, message_id: str) -> tuple[Message, DownloadLink]:
        message = self.get_message(principal, inbox_id, message_id)
        raw = Attachment("raw", message.size, "message.eml", "message/rfc822", "attachment", None, message.raw_blob_key)
        return message, self._link(raw)

    def message_attachment(
        self, principal: Principal, inbox_id: str, message_id: str, attachment_id: str
    ) -> DownloadLink:
        message = self.get_message(principal, inbox_id, message_id)
        return self._link(_attachment_of(message.attachments, attachment_id))

    # -- threads ----------------------------------------------------------------------------------------------
    def list_threads(
        self, principal: Principal, route: MailRoute, params: ListParams, mail_filter: MailFilter
    ) -> Page[Thread]:
        require(principal, "message_read")
        with self._uow() as uow:
            scope = self._scope(uow, principal, route)
            page = paginate(
                self._tokens,
                f"threads.list:{scope.pod_id}:{scope.inbox_id}",
                f"{mail_filter.fingerprint()}|{params.ascending}",
                params,
                lambda request: uow.mail.list_threads(scope, mail_filter, request),
                lambda thread: (thread.timestamp.isoformat(), thread.thread_id),
            )
            return replace(page, items=seen_threads(uow, page.items, mail_filter.hidden_labels))

    def get_thread(
        self, principal: Principal, route: MailRoute, thread_id: str, params: ListParams
    ) -> tuple[Thread, Page[Message]]:
        """The thread and one page of its messages: the first page holds the newest, each page oldest first."""
        require(principal, "message_read")
        hidden = MailFilter(hidden_labels=forbidden_labels(principal))
        with self._uow() as uow:
            thread = as_seen(uow, self._thread(uow, principal, route, thread_id), hidden.hidden_labels)
            page = paginate(
                self._tokens,
                f"threads.get:{thread.thread_id}",
                hidden.fingerprint(),
                ListParams(params.limit, params.page_token, ascending=False),
                lambda request: uow.mail.thread_messages_page(thread.thread_id, hidden, request),
                lambda message: (message.timestamp.isoformat(), message.row_id),
            )
        if not page.items and params.page_token is None:
            raise NotFound("Thread not found")
        return thread, replace(page, items=list(reversed(page.items)))

    def update_thread(self, principal: Principal, route: MailRoute, thread_id: str, change: LabelChange) -> Thread:
        require(principal, "message_update")
        change = change.checked(principal)
        forbidden = forbidden_labels(principal)
        now = self._clock.now()
        with self._uow(write=True) as uow:
            thread = as_seen(uow, self._thread(uow, principal, route, thread_id, lock=True), forbidden)
            if thread.message_count >= MAX_THREAD_LABEL_MESSAGES:
                raise Unprocessable(f"Threads with {MAX_THREAD_LABEL_MESSAGES} or more messages cannot be relabelled")
            for message in uow.mail.thread_messages(thread.thread_id):
                if not forbidden & set(message.labels):
                    relabel(uow, message, change.applied_to(message.labels), now)
            uow.mail.refresh_thread(thread.thread_id)
            uow.commit()
            refreshed = uow.mail.get_thread(thread.thread_id)
            assert refreshed is not None
            return as_seen(uow, refreshed, forbidden)

    def delete_thread(self, principal: Principal, route: MailRoute, thread_id: str) -> None:
        require(principal, "message_delete")
        forbidden = forbidden_labels(principal)
        with self._uow(write=True) as uow:
            thread = as_seen(uow, self._thread(uow, principal, route, thread_id), forbidden)
            doomed = [m for m in uow.mail.thread_messages(thread.thread_id) if not forbidden & set(m.labels)]
            prefixes = remove_messages(uow, doomed, self._clock.now())
            if not doomed:
                uow.mail.refresh_thread(thread.thread_id)
            uow.commit()
        delete_blobs(self._blobs, prefixes)

    def thread_attachment(
        self, principal: Principal, route: MailRoute, thread_id: str, attachment_id: str
    ) -> DownloadLink:
        require(principal, "message_read")
        with self._uow() as uow:
            thread = as_seen(uow, self._thread(uow, principal, route, thread_id), forbidden_labels(principal))
        return self._link(_attachment_of(thread.attachments, attachment_id))

    # -- downloads --------------------------------------------------------------------------------------------
    def _link(self, attachment: Attachment) -> DownloadLink:
        expires_at = self._clock.now() + DOWNLOAD_LIFETIME
        grant = DownloadGrant(attachment.blob_key, expires_at, attachment.filename, attachment.content_type)
        presigned = self._blobs.presigned_url(
            attachment.blob_key, int(DOWNLOAD_LIFETIME.total_seconds()), attachment.filename, attachment.content_type
        )
        return DownloadLink(attachment, expires_at, self._signer.sign(grant), presigned)

    def open_download(self, token: str) -> tuple[DownloadGrant, int, BinaryIO]:
        """The grant of a signed token, the blob's size and an open reader (no API key needed: the token is it)."""
        grant = self._signer.verify(token, self._clock.now())
        try:
            size = self._blobs.size(grant.blob_key)
        except ValueError as error:  # a key no store accepts (only a token signed with our secret gets here)
            raise NotFound("Download link is invalid") from error
        if size is None:
            raise NotFound("The file no longer exists")
        try:
            return grant, size, self._blobs.open(grant.blob_key)
        except KeyError as error:  # deleted since we looked
            raise NotFound("The file no longer exists") from error


def remove_messages(uow: UnitOfWork, doomed: list[Message], now: datetime) -> list[str]:
    """Delete stored messages (their labels, attachments and search entries go with them), refresh their threads'
    summaries (a thread left empty going too) and lower the usage totals; returns the blob prefixes to delete once
    committed."""
    for message in doomed:
        uow.mail.delete_message(message.row_id)
    for thread_id in dict.fromkeys(message.thread_id for message in doomed):
        uow.mail.refresh_thread(thread_id)
    usage.messages_deleted(uow, doomed, now)
    return [message.raw_blob_key.rsplit("/", 1)[0] for message in doomed]


def delete_blobs(blobs: BlobStore, prefixes: list[str]) -> None:
    """After the commit: a crash before this leaves unreferenced blobs, never a message without its blobs."""
    for prefix in prefixes:
        blobs.delete_prefix(prefix)


def as_seen(uow: UnitOfWork, thread: Thread, hidden: frozenset[str]) -> Thread:
    """The thread as a caller who cannot see ``hidden`` labels sees it: its summary over visible messages only."""
    if not hidden & set(thread.labels):
        return thread
    visible = [m for m in uow.mail.thread_messages(thread.thread_id) if not hidden & set(m.labels)]
    if not visible:
        raise NotFound("Thread not found")
    seen = replace(thread, attachments=[a for m in visible for a in m.attachments])
    summarize(seen, visible)
    return seen


def seen_threads(uow: UnitOfWork, threads: list[Thread], hidden: frozenset[str]) -> list[Thread]:
    """Each thread as :func:`as_seen` shows it, leaving out any that turned wholly hidden meanwhile."""
    seen = []
    for thread in threads:
        try:
            seen.append(as_seen(uow, thread, hidden))
        except NotFound:
            continue
    return seen


def _attachment_of(attachments: list[Attachment], attachment_id: str) -> Attachment:
    for attachment in attachments:
        if attachment.attachment_id == attachment_id:
            return attachment
    raise NotFound("Attachment not found")


def _check_batch(message_ids: list[str], limit: int) -> None:
    if not message_ids:
        raise InvalidInput("message_ids must not be empty", field="message_ids")
    if len(message_ids) > limit:
        raise InvalidInput(f"at most {limit} message_ids per request", field="message_ids")
    if len(set(message_ids)) != len(message_ids):
        raise InvalidInput("message_ids must not repeat", field="message_ids")
