"""Header values to text (RFC 5322 unfolding, RFC 2047 words), Message-ID lists and the Date header.

Reads the raw stored values (`Message.raw_items`): 8-bit bytes and unknown charsets decode instead of becoming U+FFFD.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.message import Message
from email.utils import parsedate_to_datetime

from postroom.mime.charset import clean_text, fix_surrogates
from postroom.mime.encoded_words import decode_words

MAX_ID_LENGTH = 900
_LINE_BREAKS = re.compile(r"[\r\n]+")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_BRACKETED_ID = re.compile(r"<([^<>]*)>")
_PRINTABLE_ID = re.compile(r"[^\s<>\x00-\x1f\x7f\"]+")


def unfold(raw: object) -> str:
    """A stored header value as one line of text (8-bit bytes decoded); encoded words left in place."""
    return _LINE_BREAKS.sub("", fix_surrogates(str(raw)))


def collapse(value: str) -> str:
    """Control characters gone, every run of whitespace one space, no NUL or lone surrogate left."""
    return " ".join(_CONTROLS.sub(" ", clean_text(value)).split())


def decode_value(raw: object) -> str:
    """A stored header value as readable text: unfolded, RFC 2047 decoded, whitespace collapsed."""
    return collapse(decode_words(unfold(raw)))


def raw_values(msg: Message, name: str) -> list[str]:
    """Every stored value of header `name` (any case), in order, unfolded but not decoded."""
    wanted = name.lower()
    return [unfold(value) for key, value in msg.raw_items() if key.strip().lower() == wanted]


def header_items(msg: Message) -> list[tuple[str, str]]:
    """All headers in order, names trimmed, values decoded."""
    items: list[tuple[str, str]] = []
    for name, value in msg.raw_items():
        key = collapse(str(name))
        if key:
            items.append((key, decode_value(value)))
    return items


def first_by_name(items: list[tuple[str, str]]) -> dict[str, str]:
    """One value per header name: the first (topmost) occurrence, keyed by the spelling it had there."""
    seen: set[str] = set()
    result: dict[str, str] = {}
    for name, value in items:
        if name.lower() not in seen:
            seen.add(name.lower())
            result[name] = value
    return result


def _normal_id(inner: str) -> str | None:
    compact = "".join(inner.split())
    if not compact or len(compact) > MAX_ID_LENGTH or not _PRINTABLE_ID.fullmatch(compact):
        return None
    return f"<{compact}>"


def message_ids(value: str) -> list[str]:
    """Message-IDs in a header value, in order, without duplicates, each with angle brackets.

    Bracketed ids win; a value without brackets contributes its whitespace-separated tokens that contain "@".
    """
    found = [_normal_id(inner) for inner in _BRACKETED_ID.findall(value)]
    if not found:
        found = [_normal_id(token.strip("\"'(),;")) for token in value.split() if "@" in token]
    return list(dict.fromkeys(item for item in found if item is not None))


def parse_date(value: str | None) -> datetime | None:
    """The Date header as an aware UTC datetime (a zone-less date is taken as UTC); None when unparseable."""
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except Exception:  # ValueError, TypeError, OverflowError, IndexError on garbage dates
        return None
