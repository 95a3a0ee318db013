"""Searching mail (spec §3.4, §3.5): messages of an inbox and threads at inbox, pod or organization scope.

Spam, blocked, unauthenticated and trash mail never matches. Each hit carries ``highlights``: the matched
fragments of sender, recipients, subject and body with the matched parts wrapped in ``**``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from postroom.domain.access import Principal
from postroom.domain.labels import HIDDEN
from postroom.domain.message import Message, Thread
from postroom.domain.pagination import PageTokens
from postroom.domain.search import MAX_QUERY_CHARS, MIN_QUERY_CHARS, MailSearch
from postroom.errors import InvalidInput
from postroom.mime.html import html_to_text
from postroom.services.access.authentication import require
from postroom.services.access.scopes import visible_inbox
from postroom.services.mail.mailbox import MailRoute, scope_of, seen_threads
from postroom.services.paging import ListParams, Page, paginate
from postroom.services.ports import UnitOfWorkFactory

Highlights = dict[str, list[str]]
SNIPPET_CONTEXT = 40
MAX_SNIPPETS = 3


@dataclass(frozen=True)
class SearchParams:
    q: str
    before: datetime | None = None
    after: datetime | None = None


@dataclass(frozen=True)
class MessageResult:
    message: Message
    highlights: Highlights


@dataclass(frozen=True)
class ThreadResult:
    thread: Thread
    highlights: Highlights


def _search(params: SearchParams) -> MailSearch:
    if len(params.q.strip()) < MIN_QUERY_CHARS or len(params.q) > MAX_QUERY_CHARS:
        raise InvalidInput(f"q must be {MIN_QUERY_CHARS}-{MAX_QUERY_CHARS} characters", field="q")
    return MailSearch.of(params.q, params.before, params.after, frozenset(HIDDEN))


def _patterns(search: MailSearch) -> list[re.Pattern[str]]:
    """The whole query as a substring, and each term as the start of a word (the whole word is marked)."""
    patterns = [re.compile(re.escape(search.text), re.IGNORECASE)] if search.text else []
    patterns += [re.compile(rf"(?<![^\W_]){re.escape(term)}[^\W_]*", re.IGNORECASE) for term in search.terms]
    return patterns


def _spans(text: str, patterns: list[re.Pattern[str]]) -> list[tuple[int, int]]:
    """Non-overlapping matches, left to right; where several patterns match at one place, the longest wins."""
    spans: list[tuple[int, int]] = []
    position = 0
    while position < len(text):
        found = [
            match for pattern in patterns if (match := pattern.search(text, position)) and match.end() > match.start()
        ]
        if not found:
            break
        start = min(match.start() for match in found)
        end = max(match.end() for match in found if match.start() == start)
        spans.append((start, end))
        position = end
    return spans


def _mark(text: str, patterns: list[re.Pattern[str]]) -> str | None:
    """The text with every match wrapped in ``**``, or None when nothing matches."""
    spans = _spans(text, patterns)
    if not spans:
        return None
    parts: list[str] = []
    last = 0
    for start, end in spans:
        parts += [text[last:start], "**", text[start:end], "**"]
        last = end
    return "".join([*parts, text[last:]])


def _snippets(text: str, patterns: list[re.Pattern[str]]) -> list[str]:
    """Up to three fragments of the body around matches, each with its matches marked."""
    snippets: list[str] = []
    end = 0
    for match_start, match_end in _spans(text, patterns):
        if match_start < end:
            continue
        start = max(0, match_start - SNIPPET_CONTEXT)
        end = min(len(text), match_end + SNIPPET_CONTEXT)
        marked = _mark(" ".join(text[start:end].split()), patterns)
        if marked is not None:
            snippets.append(("…" if start else "") + marked + ("…" if end < len(text) else ""))
        if len(snippets) == MAX_SNIPPETS:
            break
    return snippets


def highlights(message: Message, search: MailSearch) -> Highlights:
    """Matched fragments per field; a key is present only when that field matched."""
    pattern = _patterns(search)
    found: Highlights = {}
    sender = _mark(message.from_, pattern) if message.from_ else None
    if sender is not None:
        found["from"] = [sender]
    recipients = [marked for value in [*message.to, *message.cc, *message.bcc] if (marked := _mark(value, pattern))]
    if recipients:
        found["recipients"] = recipients
    subject = _mark(message.subject, pattern) if message.subject else None
    if subject is not None:
        found["subject"] = [subject]
    body = message.text if message.text is not None else (html_to_text(message.html) if message.html else "")
    snippets = _snippets(body, pattern) if body else []
    if snippets:
        found["text"] = snippets
    return found


class SearchService:
    def __init__(self, uow_factory: UnitOfWorkFactory, tokens: PageTokens) -> None:
        self._uow = uow_factory
        self._tokens = tokens

    def search_messages(
        self, principal: Principal, inbox_id: str, params: SearchParams, listing: ListParams
    ) -> Page[MessageResult]:
        require(principal, "message_read")
        search = _search(params)
        with self._uow() as uow:
            inbox = visible_inbox(uow, principal, inbox_id)
            page = paginate(
                self._tokens,
                f"messages.search:{inbox.inbox_id}",
                search.fingerprint(),
                ListParams(listing.limit, listing.page_token),
                lambda request: uow.mail.search_messages(inbox.inbox_id, search, request),
                lambda hit: (hit.rank, hit.message.timestamp.isoformat(), hit.message.row_id),
            )
        items = [MessageResult(hit.message, highlights(hit.message, search)) for hit in page.items]
        return Page(items, page.limit, page.next_page_token)

    def search_threads(
        self, principal: Principal, route: MailRoute, params: SearchParams, listing: ListParams
    ) -> Page[ThreadResult]:
        require(principal, "message_read")
        search = _search(params)
        with self._uow() as uow:
            scope = scope_of(uow, principal, route)
            page = paginate(
                self._tokens,
                f"threads.search:{scope.pod_id}:{scope.inbox_id}",
                search.fingerprint(),
                ListParams(listing.limit, listing.page_token),
                lambda request: uow.mail.search_threads(scope, search, request),
                lambda hit: (hit.rank, hit.thread.timestamp.isoformat(), hit.thread.thread_id),
            )
            # Summaries as a reader who sees no spam, blocked, unauthenticated or trash mail (search never shows it).
            seen = {
                thread.thread_id: thread
                for thread in seen_threads(uow, [hit.thread for hit in page.items], frozenset(HIDDEN))
            }
        items = [
            ThreadResult(seen[hit.thread.thread_id], highlights(hit.best, search))
            for hit in page.items
            if hit.thread.thread_id in seen
        ]
        return Page(items, page.limit, page.next_page_token)
