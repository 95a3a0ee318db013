"""Wire shapes of allow/block list entries (spec §2 ListEntry / PodListEntry, §3.12)."""

from __future__ import annotations

from pydantic import AwareDatetime, StrictStr

from postroom.api.schemas.access import PageOut, RequestBody
from postroom.domain.lists import ListEntry
from postroom.wire.base import Response


class CreateListEntryBody(RequestBody):
    entry: StrictStr
    reason: StrictStr | None = None


class ListEntryOut(Response):
    """ListEntry; pod and inbox routes return PodListEntry, the same with ``pod_id`` (and ``inbox_id``)."""

    entry: str
    organization_id: str
    pod_id: str | None = None
    inbox_id: str | None = None
    reason: str | None = None
    direction: str
    list_type: str
    entry_type: str
    created_at: AwareDatetime
    read_only: bool

    @classmethod
    def of(cls, entry: ListEntry) -> ListEntryOut:
        return cls(
            entry=entry.entry,
            organization_id=entry.organization_id,
            pod_id=entry.pod_id,
            inbox_id=entry.inbox_id,
            reason=entry.reason,
            direction=entry.direction,
            list_type=entry.list_type,
            entry_type=entry.entry_type,
            created_at=entry.created_at,
            read_only=entry.read_only,
        )


class ListEntriesOut(PageOut):
    entries: list[ListEntryOut]
