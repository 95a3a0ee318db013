"""Checking a send request (recipients, labels, headers, attachments) and turning it into composable parts.

Shared by send, reply, reply-all, forward and draft sends: every way out goes through the same rules
(spec §3.5: 1 to 50 recipients, 422 when there are none; 403 ``message_rejected`` for unfetchable attachments).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from postroom.domain import labels as system
from postroom.errors import FieldError, Forbidden, InvalidInput, Unprocessable
from postroom.mime.addresses import parse_addresses
from postroom.mime.compose import HeaderError, OutgoingAttachment, check_custom_headers
from postroom.services.ports import AttachmentFetcher

MAX_RECIPIENTS = 50


@dataclass(frozen=True)
class AttachmentInput:
    """One SendAttachment of a request: exactly one of base64 ``content`` and ``url``."""

    filename: str | None = None
    content_type: str | None = None
    content_disposition: str | None = None
    content_id: str | None = None
    content: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class SendRequest:
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    bcc: list[str] = field(default_factory=list)
    reply_to: list[str] = field(default_factory=list)
    subject: str | None = None
    text: str | None = None
    html: str | None = None
    labels: list[str] = field(default_factory=list)
    attachments: list[AttachmentInput] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def fingerprint(self, *context: str) -> str:
        """A digest of the request and where it was sent, to tell a retry from a different request."""
        document = json.dumps([context, asdict(self)], sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(document.encode()).hexdigest()


def check_addresses(values: Sequence[str], field_name: str) -> list[str]:
    """Each entry must be one address, bare or ``Name <addr>``; returned as given (trimmed)."""
    checked = []
    for index, value in enumerate(values):
        path = f"{field_name}[{index}]"
        if not isinstance(value, str) or len(parse_addresses([value])) != 1 or "\r" in value or "\n" in value:
            raise InvalidInput(f"{path} is not an email address", field=path)
        try:
            bare(value)
        except ValueError as error:
            raise InvalidInput(f"{path}: {error}", field=path) from error
        checked.append(value.strip())
    return checked


def bare(value: str) -> str:
    """The envelope form of an address: lower-cased, its domain in IDNA (``xn--``) form; ValueError if impossible.

    A non-ASCII (UTF-8) local part is kept: such mail is sent with SMTPUTF8, or bounces (5.6.7) where the next hop
    lacks it."""
    address = parse_addresses([value])[0][1].lower()
    local, _, domain = address.rpartition("@")
    if not local or any(ord(char) < 32 or ord(char) == 127 or char.isspace() for char in local):
        raise ValueError("the local part is empty or has spaces or control characters")
    if domain.startswith("["):
        raise ValueError("address literals ([ip]) are not accepted as recipients; use a domain")
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError as error:
            raise ValueError("the domain is not a valid internationalised domain name") from error
    return f"{local}@{domain}"


def envelope_recipients(to: Sequence[str], cc: Sequence[str], bcc: Sequence[str]) -> list[str]:
    """The distinct bare addresses mail goes to; 422 for none, and for more than 50."""
    addresses = []
    for value in [*to, *cc, *bcc]:
        try:
            addresses.append(bare(value))
        except (ValueError, IndexError) as error:  # e.g. taken over from a received message being replied to
            raise Unprocessable(f"{value!r} cannot be sent to: {error or 'not one address'}") from error
    addresses = list(dict.fromkeys(addresses))
    if not addresses:
        raise Unprocessable("At least one recipient (to, cc or bcc) is required", code="unprocessable")
    if len(addresses) > MAX_RECIPIENTS:
        raise Unprocessable(f"At most {MAX_RECIPIENTS} recipients are allowed per message", code="unprocessable")
    return addresses


def check_labels(values: Sequence[str], field_name: str = "labels") -> list[str]:
    labels = system.normalize_labels(list(values), field_name)
    reserved = [label for label in labels if label in system.SYSTEM_LABELS]
    if reserved:
        raise InvalidInput(f"{reserved[0]} is a system label and cannot be set", field=field_name)
    return labels


def check_headers(headers: dict[str, str]) -> dict[str, str]:
    try:
        check_custom_headers(headers)
    except HeaderError as error:
        raise InvalidInput(str(error), field="headers") from error
    return headers


def load_attachments(
    inputs: Sequence[AttachmentInput], fetcher: AttachmentFetcher, max_fetch_bytes: int, field_name: str = "attachments"
) -> list[OutgoingAttachment]:
    """Decode inline content and fetch URLs; a URL that cannot be fetched rejects the whole message."""
    errors = []
    for index, item in enumerate(inputs):
        if (item.content is None) == (item.url is None):
            errors.append(FieldError(f"{field_name}[{index}]", "exactly one of content and url is required"))
        if item.content_disposition not in (None, "inline", "attachment"):
            errors.append(FieldError(f"{field_name}[{index}].content_disposition", "must be inline or attachment"))
        for name in ("filename", "content_type", "content_id"):
            value = getattr(item, name)
            if value is not None and any(ch in value for ch in "\r\n\0"):
                errors.append(FieldError(f"{field_name}[{index}].{name}", "must not contain line breaks"))
    if errors:
        raise InvalidInput(errors[0].message, errors=errors)
    loaded = []
    fetched = 0
    for index, item in enumerate(inputs):
        filename, content_type = item.filename, item.content_type
        if item.content is not None:
            try:
                content = base64.b64decode(item.content, validate=True)
            except (binascii.Error, ValueError) as error:
                path = f"{field_name}[{index}].content"
                raise InvalidInput("content must be base64", field=path) from error
        else:
            assert item.url is not None
            content, fetched_type, fetched_name = fetcher.fetch(item.url, max_fetch_bytes - fetched)
            fetched += len(content)
            content_type = content_type or fetched_type
            filename = filename or fetched_name
        loaded.append(
            OutgoingAttachment(
                content=content,
                filename=filename,
                content_type=content_type,
                content_disposition=item.content_disposition,
                content_id=item.content_id,
            )
        )
    return loaded


def rejected(reason: str) -> Forbidden:
    return Forbidden(reason, code="message_rejected")
