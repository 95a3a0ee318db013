"""Drafts of an inbox (spec §3.6): list, get and attachment links at organization, pod and inbox scope; create,
update, delete and send at inbox scope. Reply and forward drafts take their subject and threading at creation.
"""

from __future__ import annotations

from postroom.domain.access import Principal
from postroom.domain.downloads import DownloadGrant, DownloadSigner
from postroom.domain.draft import Draft
from postroom.domain.ids import new_id
from postroom.domain.inbox import Inbox
from postroom.domain.labels import LabelChange, forbidden_labels
from postroom.domain.listing import MailFilter
from postroom.domain.message import Attachment, Message
from postroom.domain.pagination import PageTokens
from postroom.errors import Conflict, NotFound
from postroom.mime.compose import OutgoingAttachment
from postroom.mime.parse import make_preview
from postroom.mime.replies import forward_subject
from postroom.services.access.authentication import require
from postroom.services.access.scopes import visible_inbox
from postroom.services.drafts.edits import DraftChange, DraftInput, apply_change, check_change, check_input
from postroom.services.drafts.sending import DraftSender, draft_blob_prefix
from postroom.services.mail.mailbox import DOWNLOAD_LIFETIME, DownloadLink, MailRoute, scope_of
from postroom.services.paging import ListParams, Page, paginate
from postroom.services.ports import BlobStore, Clock, UnitOfWork, UnitOfWorkFactory
from postroom.services.sending.composition import reply_composition
from postroom.services.sending.outgoing import AttachmentInput, SendRequest
from postroom.services.sending.send import SendService, SentRef, check_idempotency_key


class DraftService:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        tokens: PageTokens,
        blobs: BlobStore,
        send: SendService,
        signer: DownloadSigner,
        clock: Clock,
    ) -> None:
        self._clock = clock
        self._uow = uow_factory
        self._tokens = tokens
        self._blobs = blobs
        self._send = send
        self._signer = signer
        self._sender = DraftSender(uow_factory, blobs, send, clock)

    # -- reading ----------------------------------------------------------------------------------------------
    def list_drafts(
        self, principal: Principal, route: MailRoute, params: ListParams, mail_filter: MailFilter
    ) -> Page[Draft]:
        require(principal, "draft_read")
        with self._uow() as uow:
            scope = scope_of(uow, principal, route)
            return paginate(
                self._tokens,
                f"drafts.list:{scope.pod_id}:{scope.inbox_id}",
                f"{mail_filter.fingerprint()}|{params.ascending}",
                params,
                lambda page: uow.drafts.list_page(scope, mail_filter, page),
                lambda draft: (draft.updated_at.isoformat(), draft.draft_id),
            )

    def get_draft(self, principal: Principal, route: MailRoute, draft_id: str) -> Draft:
        require(principal, "draft_read")
        with self._uow() as uow:
            return self._visible(uow, principal, route, draft_id)

    def attachment(self, principal: Principal, route: MailRoute, draft_id: str, attachment_id: str) -> DownloadLink:
        draft = self.get_draft(principal, route, draft_id)
        for attachment in draft.attachments:
            if attachment.attachment_id == attachment_id:
                return self._link(attachment)
        raise NotFound("Attachment not found")

    def _visible(
        self, uow: UnitOfWork, principal: Principal, route: MailRoute, draft_id: str, *, lock: bool = False
    ) -> Draft:
        scope = scope_of(uow, principal, route)
        draft = uow.drafts.get(draft_id, lock=lock)
        if (
            draft is None
            or draft.organization_id != scope.organization_id
            or (scope.pod_id is not None and draft.pod_id != scope.pod_id)
            or (scope.inbox_id is not None and draft.inbox_id != scope.inbox_id)
        ):
            raise NotFound("Draft not found")
        return draft

    def _link(self, attachment: Attachment) -> DownloadLink:
        expires_at = self._clock.now() + DOWNLOAD_LIFETIME
        grant = DownloadGrant(attachment.blob_key, expires_at, attachment.filename, attachment.content_type)
        presigned = self._blobs.presigned_url(
            attachment.blob_key, int(DOWNLOAD_LIFETIME.total_seconds()), attachment.filename, attachment.content_type
        )
        return DownloadLink(attachment, expires_at, self._signer.sign(grant), presigned)

    # -- writing ----------------------------------------------------------------------------------------------
    def create(self, principal: Principal, inbox_id: str, given: DraftInput) -> Draft:
        require(principal, "draft_create")
        request = check_input(given)
        with self._uow() as uow:
            inbox = visible_inbox(uow, principal, inbox_id)
            if request.client_id is not None:
                existing = uow.drafts.get_by_client_id(inbox.inbox_id, request.client_id)
                if existing is not None:
                    return existing
            original = self._original(uow, principal, inbox, request.in_reply_to or request.forward_of)
        draft = self._new_draft(inbox, request, original)
        loaded = self._load(request.attachments, "attachments")
        draft.attachments = self._store(draft, loaded)
        try:
            with self._uow(write=True) as uow:
                if uow.inboxes.get(inbox.inbox_id) is None:
                    raise NotFound("Inbox not found")
                uow.drafts.add(draft)
                uow.commit()
        except Conflict:
            self._blobs.delete_prefix(draft_blob_prefix(inbox.inbox_id, draft.draft_id))
            with self._uow() as uow:  # the same client_id, created meanwhile
                existing = uow.drafts.get_by_client_id(inbox.inbox_id, request.client_id or "")
            if existing is None:
                raise
            return existing
        except BaseException:
            self._blobs.delete_prefix(draft_blob_prefix(inbox.inbox_id, draft.draft_id))
            raise
        return draft

    def update(self, principal: Principal, inbox_id: str, draft_id: str, given: DraftChange) -> Draft:
        require(principal, "draft_update")
        change = check_change(given)
        route = MailRoute(inbox_id=inbox_id)
        current = self.get_draft(principal, route, draft_id)  # 404 before fetching any attachment URL
        added = self._store(current, self._load(change.add_attachments, "add_attachments"))
        try:
            now = self._clock.now()
            with self._uow(write=True) as uow:
                draft = self._visible(uow, principal, route, draft_id, lock=True)
                if draft.send_in_progress(now):
                    raise Conflict("This draft is being sent and can no longer be changed", code="conflict")
                removed = apply_change(draft, change, now)
                draft.attachments += added
                uow.drafts.update(draft)
                uow.commit()
        except BaseException:
            for attachment in added:
                self._blobs.delete(attachment.blob_key)
            raise
        for key in removed:
            self._blobs.delete(key)
        return draft

    def delete(self, principal: Principal, inbox_id: str, draft_id: str) -> None:
        require(principal, "draft_delete")
        with self._uow(write=True) as uow:
            draft = self._visible(uow, principal, MailRoute(inbox_id=inbox_id), draft_id, lock=True)
            if draft.send_in_progress(self._clock.now()):
                raise Conflict("This draft is being sent and can no longer be deleted", code="conflict")
            uow.drafts.delete(draft.draft_id)
            uow.commit()
        self._blobs.delete_prefix(draft_blob_prefix(draft.inbox_id, draft.draft_id))

    def send(
        self, principal: Principal, inbox_id: str, draft_id: str, change: LabelChange, idempotency_key: str | None
    ) -> SentRef:
        require(principal, "draft_send")
        key = check_idempotency_key(idempotency_key)
        with self._uow() as uow:
            inbox = visible_inbox(uow, principal, inbox_id)
        return self._sender.send(inbox, draft_id, list(change.add), list(change.remove), key)

    def send_due(self, limit: int = 20) -> int:
        """Send every draft whose send_at has passed (the scheduled-draft ticker calls this on each tick)."""
        return self._sender.send_due(limit)

    # -- helpers ----------------------------------------------------------------------------------------------
    def _original(self, uow: UnitOfWork, principal: Principal, inbox: Inbox, message_id: str | None) -> Message | None:
        if message_id is None:
            return None
        original = uow.mail.get_message(inbox.inbox_id, message_id)
        if original is None or forbidden_labels(principal) & set(original.labels):
            raise NotFound("The message to reply to or forward was not found in this inbox")
        return original

    def _new_draft(self, inbox: Inbox, request: DraftInput, original: Message | None) -> Draft:
        now = self._clock.now()
        draft = Draft(
            draft_id=new_id("drf"),
            organization_id=inbox.organization_id,
            pod_id=inbox.pod_id,
            inbox_id=inbox.inbox_id,
            client_id=request.client_id,
            labels=list(request.labels),
            reply_to=request.reply_to,
            to=request.to,
            cc=request.cc,
            bcc=request.bcc,
            subject=request.subject,
            preview=make_preview(request.text),
            text=request.text,
            html=request.html,
            in_reply_to=None,
            forward_of=None,
            references=[],
            send_status=None,
            send_at=None,
            sending_since=None,
            created_at=now,
            updated_at=now,
        )
        if original is not None and request.in_reply_to is not None:
            reply = reply_composition(
                inbox,
                original,
                SendRequest(to=request.to, cc=request.cc, bcc=request.bcc),
                reply_all=request.reply_all,
            )
            draft.to, draft.cc = reply.to, reply.cc
            draft.subject = request.subject if request.subject is not None else reply.subject
            draft.in_reply_to, draft.references = reply.in_reply_to, reply.references
        elif original is not None:
            draft.forward_of = original.message_id
            draft.subject = request.subject if request.subject is not None else forward_subject(original.subject)
        if request.send_at is not None:
            draft.schedule(request.send_at)
        return draft

    def _load(self, inputs: list[AttachmentInput], field_name: str) -> list[OutgoingAttachment]:
        return self._send.load_attachments(SendRequest(attachments=inputs), field_name) if inputs else []

    def _store(self, draft: Draft, loaded: list[OutgoingAttachment]) -> list[Attachment]:
        """Write each attachment to the blob store under the draft's folder."""
        stored = []
        for item in loaded:
            attachment_id = new_id("att")
            key = f"{draft_blob_prefix(draft.inbox_id, draft.draft_id)}/{attachment_id}"
            size = self._blobs.put(key, [item.content])
            stored.append(
                Attachment(
                    attachment_id=attachment_id,
                    size=size,
                    filename=item.filename,
                    content_type=item.content_type,
                    content_disposition=item.content_disposition,
                    content_id=item.content_id,
                    blob_key=key,
                )
            )
        return stored
