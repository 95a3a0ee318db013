"""parse_message: raw inbound RFC 5322 / MIME bytes to a ParsedMessage, for any input, without ever raising.

Written by hand on the standard library's email package: policy.default, then compat32, then the bytes as text;
long base64 runs are kept out of the email package (`mime.runs`).
"""

from __future__ import annotations

import re
import secrets
from email import message_from_bytes
from email.message import Message
from email.policy import Policy

from postroom.mime.addresses import display_list, sender
from postroom.mime.charset import clean_text, decode_text
from postroom.mime.headers import first_by_name, header_items, message_ids, parse_date, raw_values
from postroom.mime.model import ParsedAttachment, ParsedMessage
from postroom.mime.parts import collect
from postroom.mime.policies import COMPAT32, DEFAULT
from postroom.mime.runs import MIN_RUN_BYTES, Runs, activate, cut_runs, deactivate

__all__ = ["PREVIEW_LENGTH", "ParsedAttachment", "ParsedMessage", "parse_message"]

PREVIEW_LENGTH = 200
_NOT_DOMAIN = re.compile(r"[^a-z0-9.\-\[\]:]")


def _items(msg: Message) -> list[tuple[str, str]]:
    try:
        return header_items(msg)
    except Exception:  # a header the email package cannot hand over; the body may still be readable
        return []


def _ids(value: str | None) -> list[str]:
    try:
        return message_ids(value or "")
    except Exception:  # a bad id header must not cost the whole message
        return []


def _addresses(msg: Message, name: str) -> list[str]:
    try:
        return display_list(raw_values(msg, name))
    except Exception:  # as in _ids()
        return []


def _sender(msg: Message) -> tuple[str | None, str | None]:
    try:
        return sender(raw_values(msg, "from"))
    except Exception:  # as in _ids()
        return None, None


def generate_message_id(fallback_domain: str) -> str:
    """A fresh "<random@domain>" for a message that has no usable Message-ID."""
    domain = _NOT_DOMAIN.sub("", str(fallback_domain or "").strip().lower()) or "localhost"
    return f"<{secrets.token_hex(16)}@{domain}>"


def make_preview(text: str | None) -> str | None:
    """The first PREVIEW_LENGTH characters of the text with whitespace collapsed; None without text."""
    if text is None:
        return None
    return " ".join(text.split())[:PREVIEW_LENGTH].rstrip()


def _join(texts: list[str]) -> str:
    if len(texts) == 1:
        return texts[0]
    return "\n\n".join(text.strip("\n") for text in texts)


def _first(items: list[tuple[str, str]], name: str) -> str | None:
    return next((value for key, value in items if key.lower() == name), None)


def _build(msg: Message, fallback_domain: str) -> ParsedMessage:
    items = _items(msg)
    ids = _ids(_first(items, "message-id"))
    from_, from_address = _sender(msg)
    body = collect(msg)
    texts = body.texts or ([] if body.htmls else body.calendars)
    text = _join(texts) if texts else None
    return ParsedMessage(
        message_id=ids[0] if ids else generate_message_id(fallback_domain),
        subject=_first(items, "subject"),
        from_=from_,
        from_address=from_address,
        to=_addresses(msg, "to"),
        cc=_addresses(msg, "cc"),
        bcc=_addresses(msg, "bcc"),
        reply_to=_addresses(msg, "reply-to"),
        in_reply_to=next(iter(_ids(_first(items, "in-reply-to"))), None),
        references=_ids(" ".join(value for key, value in items if key.lower() == "references")),
        date=parse_date(_first(items, "date")),
        headers=first_by_name(items),
        text=text,
        html="\n".join(body.htmls) if body.htmls else None,
        attachments=body.attachments,
        preview=make_preview(text),
        header_items=items,
        message_id_generated=not ids,
    )


def _last_resort(raw: bytes, fallback_domain: str) -> ParsedMessage:
    text = clean_text(decode_text(raw, None).replace("\r\n", "\n").replace("\r", "\n"))
    return ParsedMessage(
        message_id=generate_message_id(fallback_domain),
        subject=None,
        from_=None,
        from_address=None,
        to=[],
        cc=[],
        bcc=[],
        reply_to=[],
        in_reply_to=None,
        references=[],
        date=None,
        headers={},
        text=text,
        html=None,
        attachments=[],
        preview=make_preview(text),
        message_id_generated=True,
    )


def _as_bytes(raw: object) -> bytes:
    """The input as bytes, whatever a caller handed over (bytes, bytearray, memoryview, even str)."""
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    if isinstance(raw, bytes | bytearray | memoryview):
        return bytes(raw)
    return b""  # not bytes-like at all: an empty message


def _without_header_nuls(data: bytes) -> bytes:
    """NUL bytes removed from the header section: the parser would take a header holding one for the body."""
    if b"\x00" not in data:
        return data
    ends = [end for end in (data.find(b"\r\n\r\n"), data.find(b"\n\n")) if end >= 0]
    split = min(ends) if ends else len(data)
    return data[:split].replace(b"\x00", b"") + data[split:]


def _parse_with(data: bytes, parse_policy: Policy, fallback_domain: str) -> ParsedMessage | None:
    try:
        return _build(message_from_bytes(data, policy=parse_policy), fallback_domain)
    except Exception:  # the email package (or we) failed on this input: the caller tries a more lenient way
        return None


def _mentions(parsed: ParsedMessage, runs: Runs) -> bool:
    """Whether a stand-in line survived into the result anywhere (it was not put back)."""
    texts = [parsed.text, parsed.html, *parsed.headers.values(), *(value for _, value in parsed.header_items)]
    if any(text is not None and runs.seen_in(text) for text in texts):
        return True
    return any(runs.seen_in(part.content) or runs.seen_in(part.filename or "") for part in parsed.attachments)


def parse_without_runs(
    data: bytes, fallback_domain: str, min_run_bytes: int, prefix: bytes = b""
) -> ParsedMessage | None:
    """The parse of ``prefix + data`` with long base64 runs cut out of ``data`` (``mime.runs``); None when that
    cannot give the same result."""
    cut = cut_runs(data, min_run_bytes, prefix)
    if cut is None:
        return None
    shrunk, runs = cut
    active = activate(runs)
    try:
        parsed = _parse_with(shrunk, DEFAULT, fallback_domain)
    finally:
        deactivate(active)
    if parsed is None or runs.spoiled or _mentions(parsed, runs):
        return None
    return parsed


def parse_message(
    raw: bytes, *, fallback_domain: str, prefix: bytes = b"", min_run_bytes: int = MIN_RUN_BYTES
) -> ParsedMessage:
    """Parse one raw message (as received in SMTP DATA, CRLF or LF line ends), with the header lines ``prefix``
    on top (trace fields, so a big message need not be copied to add them). Never raises.

    Missing or unusable Message-ID: a generated "<random@fallback_domain>" (`message_id_generated` is True).
    Missing or unparseable Date: None. Anything that cannot be understood ends up as an
    application/octet-stream attachment or as text. Runs of base64 lines of ``min_run_bytes`` or more are cut out
    before the email package sees the message and put back as parts are decoded; where that cannot give exactly
    what parsing the whole would, the whole is parsed.
    """
    data = _as_bytes(raw)
    if prefix and b"\x00" in data:  # where the header section ends is decided on the whole
        data, prefix = prefix + data, b""
    data = _without_header_nuls(data)  # with a prefix, there is no NUL to remove
    parsed = parse_without_runs(data, fallback_domain, min_run_bytes, prefix)
    if parsed is not None:
        return parsed
    data = prefix + data if prefix else data
    for parse_policy in (DEFAULT, COMPAT32):
        parsed = _parse_with(data, parse_policy, fallback_domain)
        if parsed is not None:
            return parsed
    return _last_resort(data, fallback_domain)
