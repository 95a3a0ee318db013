"""Value objects that say which rows a listing may return (scopes) and what a search hit carries."""

from __future__ import annotations

from dataclasses import dataclass

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
