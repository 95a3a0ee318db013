"""Deciding what a reply or a forward says: recipients, subject, threading headers and the quoted original.

Shared by the reply and forward endpoints and by reply and forward drafts (spec §3.5, §3.6).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from postroom.domain import labels as system
from postroom.domain.inbox import Inbox
from postroom.domain.message import Message
from postroom.mime.compose import OutgoingAttachment
from postroom.mime.replies import (
    forward_subject,
    forwarded_html,
    forwarded_text,
    reply_recipients,
    reply_references,
    reply_subject,
)
from postroom.services.sending.outgoing import SendRequest, check_addresses, check_headers, check_labels


@dataclass(frozen=True)
class Composition:
    """A message fully decided: what the sender's copy and the wire bytes will say."""

    to: list[str]
    cc: list[str]
    bcc: list[str]
    reply_to: list[str]
    subject: str | None
    text: str | None
    html: str | None
    labels: list[str]
    attachments: list[OutgoingAttachment]
    headers: dict[str, str]
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)


def reply_composition(inbox: Inbox, original: Message, request: SendRequest, *, reply_all: bool) -> Composition:
    """Recipients, subject and threading headers of a reply; explicit to/cc/bcc replace the derived ones."""
    derived_to, derived_cc = reply_recipients(
        own_address=inbox.inbox_id,
        from_=original.from_,
        to=original.to,
        cc=original.cc,
        reply_to=original.reply_to,
        reply_all=reply_all,
        sent_by_us=system.SENT in original.labels,
    )
    return Composition(
        to=check_addresses(request.to, "to") if request.to else derived_to,
        cc=check_addresses(request.cc, "cc") if request.cc else derived_cc,
        bcc=check_addresses(request.bcc, "bcc"),
        reply_to=check_addresses(request.reply_to, "reply_to"),
        subject=reply_subject(original.subject),
        text=request.text,
        html=request.html,
        labels=check_labels(request.labels),
        attachments=[],
        headers=check_headers(request.headers),
        in_reply_to=original.message_id,
        references=reply_references(original.message_id, original.references, original.in_reply_to),
    )


def forward_composition(original: Message, request: SendRequest) -> Composition:
    """The caller's note above the original message; the original's attachments are added by the caller."""
    return Composition(
        to=check_addresses(request.to, "to"),
        cc=check_addresses(request.cc, "cc"),
        bcc=check_addresses(request.bcc, "bcc"),
        reply_to=check_addresses(request.reply_to, "reply_to"),
        subject=request.subject if request.subject is not None else forward_subject(original.subject),
        text=forwarded_text(
            text=original.text,
            from_=original.from_,
            to=original.to,
            cc=original.cc,
            subject=original.subject,
            date=original.timestamp,
            note=request.text,
        ),
        html=forwarded_html(
            html=original.html,
            text=original.text,
            from_=original.from_,
            to=original.to,
            cc=original.cc,
            subject=original.subject,
            date=original.timestamp,
            note_html=request.html,
        ),
        labels=check_labels(request.labels),
        attachments=[],
        headers=check_headers(request.headers),
    )
