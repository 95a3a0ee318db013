"""What the inbound parser hands back: a parsed message and its attachments (plain frozen dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Disposition = Literal["inline", "attachment"]


@dataclass(frozen=True)
class ParsedAttachment:
    """One attachment or inline part.

    `filename` is RFC 2231 / RFC 2047 decoded with any directory part removed, None when the part names none
    (except `message/rfc822`, named after its subject + ".eml", and `text/calendar`, named "invite.ics").
    `content_type` is lower-case type/subtype ("application/octet-stream" when the header made no sense).
    `content_disposition` is the header's value when it is inline or attachment; a multipart/related part with a
    Content-ID and no disposition is "inline"; otherwise None. `content_id` has no angle brackets. `content` is
    the decoded payload; for message/* parts, the bytes of the enclosed message (CRLF line ends).
    """

    filename: str | None
    content_type: str
    content_disposition: Disposition | None
    content_id: str | None
    content: bytes

    @property
    def size(self) -> int:
        return len(self.content)


@dataclass(frozen=True)
class ParsedMessage:
    """An inbound message as the AgentMail Message model needs it.

    Address fields hold display forms, "Name <addr>" (name quoted when RFC 5322 requires) or "addr"; entries
    without a usable address are skipped. When From has no usable address, `from_` is the decoded header text as
    written and `from_address` the first address-like token in it, or None.
    `headers` maps each header name (spelled as at its first occurrence) to the decoded, unfolded value of its
    FIRST (topmost) occurrence, as `Message.get` does: the topmost Received / Authentication-Results is the one
    our nearest hop wrote. `header_items` keeps every header, repeats included, in order.
    `text` joins the text/plain body parts with a blank line, "\\n" line ends, format=flowed undone; None when the
    message has no text/plain body (HTML-only). `html` is the text/html body, None for text-only mail. `text`,
    `html` and every header value contain no NUL characters. `preview` is the first 200 characters of `text`
    with whitespace collapsed, None exactly when `text` is None.
    """

    message_id: str
    subject: str | None
    from_: str | None
    from_address: str | None
    to: list[str]
    cc: list[str]
    bcc: list[str]
    reply_to: list[str]
    in_reply_to: str | None
    references: list[str]
    date: datetime | None
    headers: dict[str, str]
    text: str | None
    html: str | None
    attachments: list[ParsedAttachment]
    preview: str | None
    header_items: list[tuple[str, str]] = field(default_factory=list)
    message_id_generated: bool = False
