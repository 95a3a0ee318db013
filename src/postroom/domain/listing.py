"""Value objects that say which rows a listing may return (scopes) and what a search hit carries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from postroom.domain.inbox import Inbox
from postroom.domain.pagination import Position


@dataclass(frozen=True)
class InboxScope:
    """Which inboxes a listing may return: always one organization, optionally one pod or one inbox."""

    organization_id: str
    pod_id: str | None = None
    inbox_id: str | None = None


@dataclass(frozen=True)
class KeyScope:
    """Which API keys a listing may return."""

    organization_id: str
    pod_id: str | None = None
    inbox_id: str | None = None
    exact_pod_scope: bool = False


@dataclass(frozen=True)
class SearchHit:
    inbox: Inbox
    position: Position


@dataclass(frozen=True)
class MailFilter:
    """Filters of message and thread listings (spec §1.6): labels (AND), a time window, substring filters.

    ``after`` is inclusive and ``before`` exclusive. ``hidden_labels`` are excluded (spam, trash, ... unless asked
    for). For threads, ``senders`` and ``recipients`` match the thread's lists; for messages ``senders`` matches
    ``from`` and ``recipients`` matches to/cc/bcc.
    """

    labels: tuple[str, ...] = ()
    before: datetime | None = None
    after: datetime | None = None
    hidden_labels: frozenset[str] = frozenset()
    senders: tuple[str, ...] = ()
    recipients: tuple[str, ...] = ()
    subject: tuple[str, ...] = ()

    def fingerprint(self) -> str:
        parts = [
            ",".join(self.labels),
            self.before.isoformat() if self.before else "",
            self.after.isoformat() if self.after else "",
            ",".join(sorted(self.hidden_labels)),
            "\x1f".join(self.senders),
            "\x1f".join(self.recipients),
            "\x1f".join(self.subject),
        ]
        return "|".join(parts)
