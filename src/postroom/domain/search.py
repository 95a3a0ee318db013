"""Full-text mail search (spec §3.4, §3.5): the query, its word tokens, the index document and search hits.

Both databases index the same word tokens (runs of letters and digits, lower-cased), so a query matches alike on
SQLite FTS5 and PostgreSQL full-text search. Relevance is a small integer: where the query matched.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import accumulate

from postroom.domain.message import Message, Thread

MIN_QUERY_CHARS = 2
MAX_QUERY_CHARS = 256
MAX_QUERY_TERMS = 16
MAX_DOCUMENT_CHARS = 100_000
MAX_WORD_CHARS = 128
# A search ranks at most this many of the most recent matches of each kind (subject, sender, recipients, words),
# so its cost is bounded however common the query is; the best of those come first.
SEARCH_CANDIDATES = 500

# Relevance weights, summed: a subject match outranks a sender match, which outranks recipients, then body words.
RANK_SUBJECT = 8
RANK_SENDER = 4
RANK_RECIPIENTS = 2
RANK_WORDS = 1

_WORD = re.compile(r"[^\W_]+")
# For ASCII text the same tokens come from one C-level byte translation (every non-alphanumeric byte to a space),
# several times faster than the regex on a large body.
_ASCII_SEPARATORS = bytes(code if chr(code).isalnum() and code < 128 else 0x20 for code in range(256))
# A long body is tokenised this many characters at a time (cut at whitespace, where neither lower-casing nor words
# cross), so indexing a 20 MB body stops at the document cap instead of lower-casing and splitting all of it.
SLICE_CHARS = 64 * 1024
_SPACE = re.compile(r"\s")


def words(text: str) -> list[str]:
    """Lower-cased word tokens: runs of letters and digits (punctuation, ``_`` and spaces separate words)."""
    lowered = text.lower()
    if lowered.isascii():
        found = lowered.encode("ascii").translate(_ASCII_SEPARATORS).decode("ascii").split()
    else:
        found = _WORD.findall(lowered)
    if found and max(map(len, found)) > MAX_WORD_CHARS:
        return [word for word in found if len(word) <= MAX_WORD_CHARS]
    return found


def index_document(*texts: str | None) -> str:
    """The text both databases index for a message: its words, space-separated, cut at a word boundary.

    The cap keeps a PostgreSQL tsvector well under its 1 MB limit whatever the message holds.
    """
    found: list[str] = []
    size = 0  # the words found and a space after each
    for text in texts:
        for piece in _slices(text or ""):
            more = words(piece)
            found.extend(more)
            size += sum(map(len, more)) + len(more)
            if size > MAX_DOCUMENT_CHARS:
                ends = list(accumulate(map((1).__add__, map(len, found))))
                return " ".join(found[: bisect_right(ends, MAX_DOCUMENT_CHARS)])
    return " ".join(found)


def _slices(text: str) -> Iterator[str]:
    """``text`` in pieces of about SLICE_CHARS, each ending before a whitespace character (or at the end)."""
    start = 0
    while start < len(text):
        space = _SPACE.search(text, start + SLICE_CHARS) if start + SLICE_CHARS < len(text) else None
        end = space.start() if space else len(text)
        yield text[start:end]
        start = end


def message_document(message: Message, html_to_text: Callable[[str], str]) -> str:
    """What a message is found by: subject, sender, every recipient, and its text body (else its HTML's text)."""
    body = message.text if message.text is not None else (html_to_text(message.html) if message.html else None)
    recipients = " ".join([*message.to, *message.cc, *message.bcc])
    return index_document(message.subject, message.from_, recipients, body)


@dataclass(frozen=True)
class MailSearch:
    """A validated search: ``text`` is matched as a substring, each of ``terms`` as a word prefix (all of them).

    ``after`` is inclusive and ``before`` exclusive; mail carrying one of ``hidden_labels`` never matches.
    """

    text: str
    terms: tuple[str, ...]
    before: datetime | None
    after: datetime | None
    hidden_labels: frozenset[str]

    @classmethod
    def of(cls, q: str, before: datetime | None, after: datetime | None, hidden_labels: frozenset[str]) -> MailSearch:
        text = q.strip()
        terms = tuple(dict.fromkeys(words(text)))[:MAX_QUERY_TERMS]
        return cls(text, terms, before, after, hidden_labels)

    def fingerprint(self) -> str:
        bounds = [self.before.isoformat() if self.before else "", self.after.isoformat() if self.after else ""]
        return "|".join([self.text.lower(), *bounds, ",".join(sorted(self.hidden_labels))])


@dataclass(frozen=True)
class MessageHit:
    message: Message
    rank: int


@dataclass(frozen=True)
class ThreadHit:
    """A matching thread, its rank (that of its best message) and that best message (highest rank, newest)."""

    thread: Thread
    rank: int
    best: Message
