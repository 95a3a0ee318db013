"""Replies and forwards: subjects, References (RFC 5322 §3.6.4), reply recipients and the quoted forward block.

Recipients are compared on the lower-cased bare address, with "+tag" subaddresses of our own address counted as ours.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape

from postroom.mime.addresses import parse_addresses
from postroom.mime.headers import collapse, message_ids

__all__ = [
    "MAX_REFERENCES",
    "forward_subject",
    "forwarded_html",
    "forwarded_text",
    "reply_recipients",
    "reply_references",
    "reply_subject",
]

MAX_REFERENCES = 21  # the thread's root plus the 20 most recent ancestors
FORWARD_SEPARATOR = "---------- Forwarded message ---------"
_REPLY_PREFIXES = re.compile(r"^(?:\s*(?:re|aw|sv)\s*(?:\[\d+\])?\s*:)+\s*", re.IGNORECASE)
_FORWARD_PREFIXES = re.compile(r"^(?:\s*(?:fwd|fw)\s*(?:\[\d+\])?\s*:)+\s*", re.IGNORECASE)
_BODY_START = re.compile(r"<body\b[^<>]{0,4000}>", re.IGNORECASE)
_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def reply_subject(subject: str | None) -> str:
    """ "Re: subject", with any Re:/RE:/Aw:/Sv: prefixes already there folded into one ("Re:" for no subject)."""
    rest = _REPLY_PREFIXES.sub("", collapse(subject or ""))
    return f"Re: {rest}".rstrip()


def forward_subject(subject: str | None) -> str:
    """ "Fwd: subject", with any Fwd:/Fw:/FW: prefixes already there folded into one ("Fwd:" for no subject)."""
    rest = _FORWARD_PREFIXES.sub("", collapse(subject or ""))
    return f"Fwd: {rest}".rstrip()


def reply_references(message_id: str, references: Sequence[str], in_reply_to: str | None) -> list[str]:
    """The References of a reply: the parent's References (else its In-Reply-To), then the parent's Message-ID.

    Unusable ids are dropped, duplicates kept once, and a long chain keeps its first id and the last 20.
    """
    ancestors = [found for value in references for found in message_ids(value)]
    if not ancestors and in_reply_to:
        ancestors = message_ids(in_reply_to)
    own = message_ids(message_id)[:1]
    chain = [value for value in dict.fromkeys(ancestors) if value not in own] + own
    if len(chain) > MAX_REFERENCES:
        chain = chain[:1] + chain[-(MAX_REFERENCES - 1) :]
    return chain


def _bare(entry: str) -> str | None:
    pairs = parse_addresses([entry]) if isinstance(entry, str) else []
    return pairs[0][1].lower() if len(pairs) == 1 else None


def _without_tag(address: str) -> str:
    local, _at, domain = address.rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


def reply_recipients(
    *,
    own_address: str,
    from_: str,
    to: Sequence[str],
    cc: Sequence[str],
    reply_to: Sequence[str],
    reply_all: bool,
    sent_by_us: bool,
) -> tuple[list[str], list[str]]:
    """(to, cc) of a reply, in the display forms given; never our own address, never one address twice.

    A reply goes to the Reply-To addresses, else the sender; reply-all adds the original To (to) and Cc (cc).
    Replying to our own sent message goes to its To (plus its Cc for reply-all). Unparseable entries are dropped.
    """
    if sent_by_us:
        wanted_to, wanted_cc = list(to), list(cc) if reply_all else []
    else:
        wanted_to = list(reply_to) or [from_]
        wanted_cc = list(cc) if reply_all else []
        if reply_all:
            wanted_to += list(to)
    own = _without_tag(_bare(own_address) or str(own_address).strip().lower())
    seen: set[str] = set()
    result: tuple[list[str], list[str]] = ([], [])
    for wanted, kept in ((wanted_to, result[0]), (wanted_cc, result[1])):
        for entry in wanted:
            address = _bare(entry)
            if address is None or address in seen or _without_tag(address) == own:
                continue
            seen.add(address)
            kept.append(entry.strip())
    return result


def _gmail_date(date: datetime) -> str:
    """Gmail's forward date, "Wed, Nov 25, 2026 at 6:27 PM UTC", without depending on the process locale."""
    moment = date.astimezone(UTC) if date.tzinfo is not None else date
    hour = moment.hour % 12 or 12
    half = "AM" if moment.hour < 12 else "PM"
    return (
        f"{_DAYS[moment.weekday()]}, {_MONTHS[moment.month - 1]} {moment.day}, {moment.year}"
        f" at {hour}:{moment.minute:02d} {half} UTC"
    )


def _header_lines(from_: str, to: Sequence[str], cc: Sequence[str], subject: str | None, date: datetime) -> list[str]:
    lines = [f"From: {collapse(from_)}", f"Date: {_gmail_date(date)}", f"Subject: {collapse(subject or '')}"]
    lines.append(f"To: {', '.join(collapse(entry) for entry in to)}")
    if cc:
        lines.append(f"Cc: {', '.join(collapse(entry) for entry in cc)}")
    return lines


def forwarded_text(
    *,
    text: str | None,
    from_: str,
    to: Sequence[str],
    cc: Sequence[str],
    subject: str | None,
    date: datetime,
    note: str | None,
) -> str:
    """The forward's text body: the note, then Gmail's "Forwarded message" block and the original text."""
    block = "\n".join([FORWARD_SEPARATOR, *_header_lines(from_, to, cc, subject, date)])
    original = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    head = f"{note.rstrip()}\n\n" if note and note.strip() else ""
    return f"{head}{block}\n\n\n{original}"


def _body_of(html: str) -> str:
    """What is inside <body> when the original is a whole document: a document cannot nest inside a div."""
    start = _BODY_START.search(html)
    ends = [found.start() for found in _BODY_END.finditer(html, start.end())] if start else []
    return html[start.end() : ends[-1]] if start and ends else html


def _text_as_html(text: str) -> str:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "<div>" + "<br>\n".join(escape(line) for line in lines) + "</div>"


def forwarded_html(
    *,
    html: str | None,
    text: str | None,
    from_: str,
    to: Sequence[str],
    cc: Sequence[str],
    subject: str | None,
    date: datetime,
    note_html: str | None,
) -> str | None:
    """The forward's HTML body, Gmail's shape (a div.gmail_quote); None when there is neither a note nor HTML."""
    if note_html is None and html is None:
        return None
    attribution = "<br>\n".join(
        escape(line) for line in [FORWARD_SEPARATOR, *_header_lines(from_, to, cc, subject, date)]
    )
    original = _body_of(html) if html is not None else _text_as_html(text or "")
    return (
        f"<div>{note_html or ''}</div>\n<br>\n"
        f'<div class="gmail_quote"><div dir="ltr" class="gmail_attr">{attribution}<br></div><br><br>\n'
        f"{original}\n</div>"
    )
