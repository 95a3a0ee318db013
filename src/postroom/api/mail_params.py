"""Query parameters shared by message and thread listings: labels, time window, include_* and substrings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Query, Request

from postroom.api.deps import Caller, IsoDateTime, list_query, query_instant
from postroom.domain.access import Principal
from postroom.domain.labels import hidden_for, normalize_labels
from postroom.domain.listing import MailFilter

MAX_FILTERED_LIMIT = 100


@dataclass(frozen=True)
class _Window:
    before: datetime | None
    after: datetime | None
    included: frozenset[str]


async def _window(
    before: Annotated[IsoDateTime | None, Query()] = None,
    after: Annotated[IsoDateTime | None, Query()] = None,
    include_spam: Annotated[bool, Query()] = False,
    include_blocked: Annotated[bool, Query()] = False,
    include_unauthenticated: Annotated[bool, Query()] = False,
    include_trash: Annotated[bool, Query()] = False,
) -> _Window:
    flags = {"spam": include_spam, "blocked": include_blocked, "unauthenticated": include_unauthenticated}
    flags["trash"] = include_trash
    included = frozenset(label for label, wanted in flags.items() if wanted)
    return _Window(query_instant(before, "before"), query_instant(after, "after"), included)


Window = Annotated[_Window, Depends(_window)]


def _filter(request: Request, caller: Principal, window: _Window, senders: str, recipients: str) -> MailFilter:
    wanted = list_query(request, "labels")
    return MailFilter(
        labels=tuple(normalize_labels(wanted)) if wanted else (),
        before=window.before,
        after=window.after,
        hidden_labels=hidden_for(caller, window.included),
        senders=tuple(list_query(request, senders) or ()),
        recipients=tuple(list_query(request, recipients) or ()),
        subject=tuple(list_query(request, "subject") or ()),
    )


def message_filter(request: Request, caller: Caller, window: Window) -> MailFilter:
    """Messages filter senders with ``from`` and recipients (to, cc, bcc) with ``to``."""
    return _filter(request, caller, window, "from", "to")


def thread_filter(request: Request, caller: Caller, window: Window) -> MailFilter:
    return _filter(request, caller, window, "senders", "recipients")


MessageFilter = Annotated[MailFilter, Depends(message_filter)]
ThreadFilter = Annotated[MailFilter, Depends(thread_filter)]
