"""Query parameters shared by message and thread listings: labels, time window, include_* and substrings."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Query, Request

from postroom.api.deps import Caller, list_query
from postroom.domain.labels import normalize_labels
from postroom.domain.listing import MailFilter
from postroom.services.mail import hidden_for

MAX_FILTERED_LIMIT = 100


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _included(spam: bool, blocked: bool, unauthenticated: bool, trash: bool) -> frozenset[str]:
    flags = {"spam": spam, "blocked": blocked, "unauthenticated": unauthenticated, "trash": trash}
    return frozenset(label for label, wanted in flags.items() if wanted)


def _filter(
    request: Request,
    caller: Caller,
    before: datetime | None,
    after: datetime | None,
    included: frozenset[str],
    senders: str,
    recipients: str,
) -> MailFilter:
    wanted = list_query(request, "labels")
    return MailFilter(
        labels=tuple(normalize_labels(wanted)) if wanted else (),
        before=_utc(before),
        after=_utc(after),
        hidden_labels=hidden_for(caller, included),
        senders=tuple(list_query(request, senders) or ()),
        recipients=tuple(list_query(request, recipients) or ()),
        subject=tuple(list_query(request, "subject") or ()),
    )


def message_filter(
    request: Request,
    caller: Caller,
    before: Annotated[datetime | None, Query()] = None,
    after: Annotated[datetime | None, Query()] = None,
    include_spam: Annotated[bool, Query()] = False,
    include_blocked: Annotated[bool, Query()] = False,
    include_unauthenticated: Annotated[bool, Query()] = False,
    include_trash: Annotated[bool, Query()] = False,
) -> MailFilter:
    included = _included(include_spam, include_blocked, include_unauthenticated, include_trash)
    return _filter(request, caller, before, after, included, "from", "to")


def thread_filter(
    request: Request,
    caller: Caller,
    before: Annotated[datetime | None, Query()] = None,
    after: Annotated[datetime | None, Query()] = None,
    include_spam: Annotated[bool, Query()] = False,
    include_blocked: Annotated[bool, Query()] = False,
    include_unauthenticated: Annotated[bool, Query()] = False,
    include_trash: Annotated[bool, Query()] = False,
) -> MailFilter:
    included = _included(include_spam, include_blocked, include_unauthenticated, include_trash)
    return _filter(request, caller, before, after, included, "senders", "recipients")


MessageFilter = Annotated[MailFilter, Depends(message_filter)]
ThreadFilter = Annotated[MailFilter, Depends(thread_filter)]
