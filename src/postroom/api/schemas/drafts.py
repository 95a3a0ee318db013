"""Wire shapes of drafts (spec §2 DraftItem/Draft, §3.6): create, update and send bodies, and the responses."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, StrictBool, StrictStr, field_validator

from postroom.api.schemas.access import PageOut, RequestBody
from postroom.api.schemas.send import SendAttachmentBody
from postroom.domain.draft import Draft
from postroom.domain.instants import as_utc
from postroom.services.drafts.edits import DraftChange, DraftInput
from postroom.wire.base import Response
from postroom.wire.mail import AttachmentOut

Addresses = list[StrictStr] | None


def _datetime(value: object, name: str) -> object:
    """ISO-8601 text to an aware UTC datetime (a naive one is taken as UTC); other JSON types fail validation."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as error:
            raise ValueError(f"{name} must be an ISO-8601 datetime") from error
        return as_utc(parsed)
    return value


class CreateDraftBody(RequestBody):
    labels: Addresses = None
    reply_to: Addresses = None
    to: Addresses = None
    cc: Addresses = None
    bcc: Addresses = None
    subject: StrictStr | None = None
    text: StrictStr | None = None
    html: StrictStr | None = None
    attachments: list[SendAttachmentBody] | None = None
    in_reply_to: StrictStr | None = None
    forward_of: StrictStr | None = None
    reply_all: StrictBool | None = None
    send_at: datetime | None = None
    client_id: StrictStr | None = None

    @field_validator("send_at", mode="before")
    @classmethod
    def _send_at(cls, value: object) -> object:
        return _datetime(value, "send_at")

    def to_input(self) -> DraftInput:
        return DraftInput(
            labels=list(self.labels or []),
            reply_to=list(self.reply_to or []),
            to=list(self.to or []),
            cc=list(self.cc or []),
            bcc=list(self.bcc or []),
            subject=self.subject,
            text=self.text,
            html=self.html,
            attachments=[item.to_input() for item in self.attachments or []],
            in_reply_to=self.in_reply_to,
            forward_of=self.forward_of,
            reply_all=bool(self.reply_all),
            send_at=self.send_at,
            client_id=self.client_id,
        )


class UpdateDraftBody(RequestBody):
    reply_to: Addresses = None
    to: Addresses = None
    cc: Addresses = None
    bcc: Addresses = None
    subject: StrictStr | None = None
    text: StrictStr | None = None
    html: StrictStr | None = None
    add_attachments: list[SendAttachmentBody] | None = None
    remove_attachments: list[StrictStr] | None = None
    add_labels: list[StrictStr] | None = None
    remove_labels: list[StrictStr] | None = None
    send_at: datetime | None = None

    @field_validator("send_at", mode="before")
    @classmethod
    def _send_at(cls, value: object) -> object:
        return _datetime(value, "send_at")

    def to_change(self) -> DraftChange:
        """Fields left out stay as they are; a null (or an empty recipient list) clears the field."""
        return DraftChange(
            given=frozenset(self.model_fields_set),
            reply_to=self.reply_to,
            to=self.to,
            cc=self.cc,
            bcc=self.bcc,
            subject=self.subject,
            text=self.text,
            html=self.html,
            send_at=self.send_at,
            add_attachments=[item.to_input() for item in self.add_attachments or []],
            remove_attachments=list(self.remove_attachments or []),
            add_labels=list(self.add_labels or []),
            remove_labels=list(self.remove_labels or []),
        )


class SendDraftBody(RequestBody):
    add_labels: StrictStr | list[StrictStr] | None = None
    remove_labels: StrictStr | list[StrictStr] | None = None


class DraftItemOut(Response):
    inbox_id: str
    draft_id: str
    labels: list[str]
    to: list[str] | None = None
    cc: list[str] | None = None
    bcc: list[str] | None = None
    subject: str | None = None
    preview: str | None = None
    attachments: list[AttachmentOut] | None = None
    in_reply_to: str | None = None
    forward_of: str | None = None
    send_status: str | None = None
    send_at: AwareDatetime | None = None
    updated_at: AwareDatetime

    @classmethod
    def fields_of(cls, draft: Draft) -> dict[str, object]:
        return {
            "inbox_id": draft.inbox_id,
            "draft_id": draft.draft_id,
            "labels": draft.labels,
            "to": draft.to or None,
            "cc": draft.cc or None,
            "bcc": draft.bcc or None,
            "subject": draft.subject,
            "preview": draft.preview,
            "attachments": [AttachmentOut.of(item) for item in draft.attachments] or None,
            "in_reply_to": draft.in_reply_to,
            "forward_of": draft.forward_of,
            "send_status": draft.send_status,
            "send_at": draft.send_at,
            "updated_at": draft.updated_at,
        }

    @classmethod
    def of(cls, draft: Draft) -> DraftItemOut:
        return cls.model_validate(cls.fields_of(draft))


class DraftOut(DraftItemOut):
    client_id: str | None = None
    reply_to: list[str] | None = None
    text: str | None = None
    html: str | None = None
    references: list[str] | None = None
    created_at: AwareDatetime

    @classmethod
    def full(cls, draft: Draft) -> DraftOut:
        fields = cls.fields_of(draft) | {
            "client_id": draft.client_id,
            "reply_to": draft.reply_to or None,
            "text": draft.text,
            "html": draft.html,
            "references": draft.references or None,
            "created_at": draft.created_at,
        }
        return cls.model_validate(fields)


class ListDraftsOut(PageOut):
    drafts: list[DraftItemOut]
