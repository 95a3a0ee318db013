"""compose: an outgoing message (RFC 5322, MIME RFC 2045-2049, 2047, 2231, 2387) as CRLF bytes for SMTP DATA.

The standard library's EmailMessage with policy.SMTP builds the MIME tree and encodes bodies, names and filenames;
Message-ID, In-Reply-To, References and ASCII free-text headers are folded here, because the email package turns
any word longer than a line into RFC 2047 encoded words, which breaks message ids.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage, MIMEPart
from email.policy import SMTP
from email.utils import format_datetime
from mimetypes import guess_type

from postroom.mime.addresses import parse_addresses
from postroom.mime.headers import MAX_ID_LENGTH, collapse

__all__ = ["HeaderError", "Outgoing", "OutgoingAttachment", "check_custom_headers", "compose", "new_message_id"]

OCTET_STREAM = "application/octet-stream"
MAX_LINE = 998
FOLD_AT = 78
# refold_source="none": the values stored with set_raw() below are already folded and must stay as written;
# cte_type="7bit": 8-bit text goes out quoted-printable or base64, so no relay needs 8BITMIME
_POLICY = SMTP.clone(refold_source="none", cte_type="7bit")
OWNED_HEADERS = frozenset(
    name.lower()
    for name in (
        "From", "To", "Cc", "Bcc", "Reply-To", "Subject", "Date", "Message-ID", "In-Reply-To", "References",
        "MIME-Version", "Content-Type", "Content-Transfer-Encoding", "DKIM-Signature", "Return-Path", "Sender",
        "Content-Disposition", "Content-ID",
    )
)  # fmt: skip
_FIELD_NAME = re.compile(r"[!-9;-~]+")
# CR, LF, NUL, and what str.splitlines() also takes for a line end (the email package refuses those too)
_FORBIDDEN_CHARS = re.compile("[\r\n\x00\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
_ID_PART = r"[!-;=?-~]+"  # printable ASCII without "<", ">" and space
_MESSAGE_ID = re.compile(rf"<{_ID_PART}@{_ID_PART}>")
_CONTENT_ID = re.compile(_ID_PART)
_MIME_NAME = r"[a-z0-9!#$%&'*+.^_`|~-]+"
_CONTENT_TYPE = re.compile(rf"({_MIME_NAME})/({_MIME_NAME})")
_HOSTNAME = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*")


class HeaderError(ValueError):
    """A header (or attachment field) that cannot go into a message; the message names the header."""


@dataclass(frozen=True)
class OutgoingAttachment:
    content: bytes
    filename: str | None = None
    content_type: str | None = None  # guessed from the filename when None; else application/octet-stream
    content_disposition: str | None = None  # "inline" | "attachment" | None (None = attachment)
    content_id: str | None = None  # written as Content-ID: <id>; angle brackets optional


@dataclass(frozen=True)
class Outgoing:
    message_id: str  # "<...@domain>"
    date: datetime  # aware; written in UTC (a naive datetime is taken as UTC)
    from_: str  # "addr" or "Display Name <addr>"
    to: Sequence[str] = ()
    cc: Sequence[str] = ()
    bcc: Sequence[str] = ()  # the envelope's business: never written into the headers
    reply_to: Sequence[str] = ()
    subject: str | None = None
    text: str | None = None
    html: str | None = None
    attachments: Sequence[OutgoingAttachment] = ()
    headers: Mapping[str, str] = field(default_factory=dict)
    in_reply_to: str | None = None
    references: Sequence[str] = ()


def check_custom_headers(headers: Mapping[str, str]) -> None:
    """Raise HeaderError (naming the header) for a name outside printable ASCII 33-126 or containing ":", a value
    holding CR, LF, NUL or another line separator, or a name in OWNED_HEADERS (any case)."""
    for name, value in headers.items():
        if not isinstance(name, str) or not _FIELD_NAME.fullmatch(name):
            raise HeaderError(f"header name {name!r} is not a valid RFC 5322 field name")
        if name.lower() in OWNED_HEADERS:
            raise HeaderError(f"header {name!r} is set by Postroom and cannot be given")
        if not isinstance(value, str):
            raise HeaderError(f"header {name!r} must have a string value")
        if _FORBIDDEN_CHARS.search(value):
            raise HeaderError(f"header {name!r} contains a line break or NUL character")


def new_message_id(domain: str) -> str:
    """A fresh "<token@domain>"; tokens sort by creation time (milliseconds, then 64 random bits)."""
    host = str(domain).strip().lower().rstrip(".")
    if not _HOSTNAME.fullmatch(host) or len(host) > 253:
        raise ValueError(f"not a domain name: {domain!r}")
    return f"<{time.time_ns() // 1_000_000:012x}.{secrets.token_hex(8)}@{host}>"


def _folded(words: Sequence[str], name_length: int) -> str:
    """Words joined with spaces, a line break (CRLF + space) before a word that would pass FOLD_AT."""
    lines: list[str] = []
    line = ""
    width = name_length + 2
    for word in words:
        if line and width + 1 + len(line) + len(word) > FOLD_AT:
            lines.append(line)
            line, width = word, 1
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return "\r\n ".join(lines)


def _message_id(header: str, value: str) -> str:
    value = value.strip()
    if len(value) > MAX_ID_LENGTH or not _MESSAGE_ID.fullmatch(value):
        raise HeaderError(f"{header}: {value!r} is not a message id of the form <local@domain>")
    return value


def _address(header: str, entry: str) -> Address:
    pairs = parse_addresses([entry]) if isinstance(entry, str) else []
    if len(pairs) != 1:
        raise HeaderError(f"{header}: {entry!r} is not one email address")
    name, address = pairs[0]
    local, _at, domain = address.rpartition("@")
    try:
        domain = domain.encode("idna").decode("ascii") if not domain.isascii() else domain
        return Address(display_name=name, username=local, domain=domain)
    except (UnicodeError, ValueError) as error:
        raise HeaderError(f"{header}: {entry!r} is not a valid email address") from error


def _set_text_header(message: EmailMessage, name: str, value: str) -> None:
    """ASCII text folded at whitespace, words kept as written; anything else left to the email package (RFC 2047)."""
    words = value.split()
    if value.isascii() and all(len(name) + 2 + len(word) <= MAX_LINE for word in words):
        message.set_raw(name, _folded(words, len(name)))
    else:
        message[name] = value


def _content_type(attachment: OutgoingAttachment) -> tuple[str, str]:
    given = attachment.content_type
    if given is None:
        given = (guess_type(attachment.filename)[0] if attachment.filename else None) or OCTET_STREAM
    match = _CONTENT_TYPE.fullmatch(given.split(";", 1)[0].strip().lower())
    if match is None or match.group(1) == "multipart":
        raise HeaderError(f"Content-Type: {attachment.content_type!r} is not a type/subtype for an attachment")
    return match.group(1), match.group(2)


def _add_attachment(target: MIMEPart, attachment: OutgoingAttachment, *, related: bool) -> None:
    maintype, subtype = _content_type(attachment)
    disposition = attachment.content_disposition or "attachment"
    if disposition not in ("inline", "attachment"):
        raise HeaderError(f"Content-Disposition: {disposition!r} is neither 'inline' nor 'attachment'")
    cid = None
    if attachment.content_id is not None:
        bare = attachment.content_id.strip().removeprefix("<").removesuffix(">")
        if not _CONTENT_ID.fullmatch(bare) or len(bare) > MAX_ID_LENGTH:
            raise HeaderError(f"Content-ID: {attachment.content_id!r} is not a valid content id")
        cid = f"<{bare}>"
    name = collapse(attachment.filename) if attachment.filename else None
    add = target.add_related if related else target.add_attachment
    add(bytes(attachment.content), maintype, subtype, disposition=disposition, filename=name or None, cid=cid)


def _set_body(message: EmailMessage, outgoing: Outgoing) -> None:
    text, html = outgoing.text, outgoing.html
    related = [item for item in outgoing.attachments if _is_related(item, html)]
    mixed = [item for item in outgoing.attachments if not _is_related(item, html)]
    html_part: MIMEPart = message
    if html is not None and text is not None:
        message.set_content(text, subtype="plain", charset="utf-8")
        message.add_alternative(html, subtype="html", charset="utf-8")
        html_part = next(part for part in message.iter_parts() if part.get_content_type() == "text/html")
    elif html is not None:
        message.set_content(html, subtype="html", charset="utf-8")
    else:
        message.set_content(text or "", subtype="plain", charset="utf-8")
    for attachment in related:
        _add_attachment(html_part, attachment, related=True)
    for attachment in mixed:
        _add_attachment(message, attachment, related=False)
    for part in message.walk():
        if part is not message:  # the email package makes subparts EmailMessages, which add their own
            del part["MIME-Version"]


def _is_related(attachment: OutgoingAttachment, html: str | None) -> bool:
    """An inline part with a Content-ID next to HTML: a cid: image, so it goes into multipart/related."""
    return html is not None and attachment.content_disposition == "inline" and bool(attachment.content_id)


def compose(outgoing: Outgoing) -> bytes:
    """The message as CRLF-terminated bytes ready for SMTP DATA (no dot-stuffing), every line at most 998 octets.

    Raises HeaderError (naming the header) for an unusable address, message id, custom header or attachment field.
    """
    check_custom_headers(outgoing.headers)
    addresses = {"From": [_address("From", outgoing.from_)]}
    for name, entries in (("To", outgoing.to), ("Cc", outgoing.cc), ("Reply-To", outgoing.reply_to)):
        if entries:
            addresses[name] = [_address(name, entry) for entry in entries]
    # A non-ASCII local part cannot be encoded: its headers are UTF-8 (RFC 6532), sent only with SMTPUTF8.
    internationalised = any(not a.username.isascii() for field_addresses in addresses.values() for a in field_addresses)
    message = EmailMessage(policy=_POLICY.clone(utf8=True) if internationalised else _POLICY)
    for name, field_addresses in addresses.items():
        message[name] = field_addresses
    if outgoing.subject is not None:
        _set_text_header(message, "Subject", _FORBIDDEN_CHARS.sub(" ", outgoing.subject))
    date = outgoing.date if outgoing.date.tzinfo is not None else outgoing.date.replace(tzinfo=UTC)
    message["Date"] = format_datetime(date.astimezone(UTC))
    message.set_raw("Message-ID", _message_id("Message-ID", outgoing.message_id))
    if outgoing.in_reply_to:
        message.set_raw("In-Reply-To", _message_id("In-Reply-To", outgoing.in_reply_to))
    if outgoing.references:
        ids = [_message_id("References", value) for value in outgoing.references]
        message.set_raw("References", _folded(list(dict.fromkeys(ids)), len("References")))
    message["MIME-Version"] = "1.0"
    for name, value in outgoing.headers.items():
        _set_text_header(message, name, value)
    _set_body(message, outgoing)
    return message.as_bytes()
