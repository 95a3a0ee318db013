"""What a caller may put in a draft (spec §3.6): the create and update inputs, their checks, and applying an update.

Absent and null differ on update: a field left out stays as it is, ``null`` (or ``[]`` for recipients) clears it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from postroom.domain import labels as system
from postroom.domain.draft import Draft
from postroom.errors import InvalidInput
from postroom.mime.parse import make_preview
from postroom.services.sending.outgoing import AttachmentInput, check_addresses, check_labels

RECIPIENT_FIELDS = ("reply_to", "to", "cc", "bcc")
TEXT_FIELDS = ("subject", "text", "html")


@dataclass(frozen=True)
class DraftInput:
    labels: list[str] = field(default_factory=list)
    reply_to: list[str] = field(default_factory=list)
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    bcc: list[str] = field(default_factory=list)
    subject: str | None = None
    text: str | None = None
    html: str | None = None
    attachments: list[AttachmentInput] = field(default_factory=list)
    in_reply_to: str | None = None
    forward_of: str | None = None
    reply_all: bool = False
    send_at: datetime | None = None
    client_id: str | None = None


@dataclass(frozen=True)
class DraftChange:
    """An update; ``given`` names the recipient, text and send_at fields the caller sent (null included)."""

    given: frozenset[str] = frozenset()
    reply_to: list[str] | None = None
    to: list[str] | None = None
    cc: list[str] | None = None
    bcc: list[str] | None = None
    subject: str | None = None
    text: str | None = None
    html: str | None = None
    send_at: datetime | None = None
    add_attachments: list[AttachmentInput] = field(default_factory=list)
    remove_attachments: list[str] = field(default_factory=list)
    add_labels: list[str] = field(default_factory=list)
    remove_labels: list[str] = field(default_factory=list)


def check_input(draft: DraftInput) -> DraftInput:
    """The input with addresses trimmed and labels normalised; 400 for combinations the draft kinds forbid."""
    if draft.in_reply_to is not None and draft.forward_of is not None:
        raise InvalidInput("A draft replies (in_reply_to) or forwards (forward_of), not both", field="forward_of")
    if draft.reply_all and draft.in_reply_to is None:
        raise InvalidInput("reply_all needs in_reply_to", field="reply_all")
    if draft.reply_all and (draft.to or draft.cc or draft.bcc):
        raise InvalidInput("A reply_all draft addresses the whole thread: leave out to, cc and bcc", field="to")
    if draft.client_id is not None and (not draft.client_id or "@" in draft.client_id or len(draft.client_id) > 256):
        raise InvalidInput("client_id must be 1-256 characters without @", field="client_id")
    return DraftInput(
        labels=check_labels(draft.labels),
        reply_to=check_addresses(draft.reply_to, "reply_to"),
        to=check_addresses(draft.to, "to"),
        cc=check_addresses(draft.cc, "cc"),
        bcc=check_addresses(draft.bcc, "bcc"),
        subject=draft.subject,
        text=draft.text,
        html=draft.html,
        attachments=draft.attachments,
        in_reply_to=draft.in_reply_to,
        forward_of=draft.forward_of,
        reply_all=draft.reply_all,
        send_at=draft.send_at,
        client_id=draft.client_id,
    )


def check_change(change: DraftChange) -> DraftChange:
    """Recipients must be addresses; labels may not be system labels (``scheduled`` follows ``send_at``)."""

    def addresses(values: list[str] | None, name: str) -> list[str] | None:
        return check_addresses(values, name) if values is not None else None

    return DraftChange(
        given=change.given,
        reply_to=addresses(change.reply_to, "reply_to"),
        to=addresses(change.to, "to"),
        cc=addresses(change.cc, "cc"),
        bcc=addresses(change.bcc, "bcc"),
        subject=change.subject,
        text=change.text,
        html=change.html,
        send_at=change.send_at,
        add_attachments=change.add_attachments,
        remove_attachments=change.remove_attachments,
        add_labels=check_labels(change.add_labels, "add_labels"),
        remove_labels=check_labels(change.remove_labels, "remove_labels"),
    )


def apply_change(draft: Draft, change: DraftChange, now: datetime) -> list[str]:
    """Apply a checked change (without new attachments); returns the blob keys of the attachments it removed."""
    for name in RECIPIENT_FIELDS:
        if name in change.given:
            setattr(draft, name, list(getattr(change, name) or []))
    for name in TEXT_FIELDS:
        if name in change.given:
            setattr(draft, name, getattr(change, name))
    draft.preview = make_preview(draft.text)
    known = {attachment.attachment_id for attachment in draft.attachments}
    for index, attachment_id in enumerate(change.remove_attachments):
        if attachment_id not in known:
            raise InvalidInput("No such attachment on this draft", field=f"remove_attachments[{index}]")
    removed = [a.blob_key for a in draft.attachments if a.attachment_id in change.remove_attachments]
    draft.attachments = [a for a in draft.attachments if a.attachment_id not in change.remove_attachments]
    labels = list(dict.fromkeys([*draft.labels, *change.add_labels]))
    draft.labels = [label for label in labels if label not in change.remove_labels or label in system.SYSTEM_LABELS]
    if "send_at" in change.given:
        draft.schedule(change.send_at)
    draft.updated_at = now
    return removed
