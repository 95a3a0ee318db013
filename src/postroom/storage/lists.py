"""Allow/block list entries at organization, pod and inbox scope, and the lookups list evaluation needs."""

from __future__ import annotations

from sqlalchemy import Connection, RowMapping, delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from postroom.domain.lists import Direction, ListEntry, ListType
from postroom.domain.pagination import PageRequest
from postroom.storage.repositories import write_checked
from postroom.storage.tables import list_entries

_FIELDS = (
    "organization_id",
    "pod_id",
    "inbox_id",
    "direction",
    "list_type",
    "entry",
    "entry_type",
    "reason",
    "read_only",
    "created_at",
)


def _entry(row: RowMapping) -> ListEntry:
    return ListEntry(**{name: row[name] for name in _FIELDS})


def _row(entry: ListEntry) -> dict[str, object]:
    return {"scope_id": entry.scope_id, **{name: getattr(entry, name) for name in _FIELDS}}


class SqlListEntryRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def get(self, scope_id: str, direction: Direction, list_type: ListType, entry: str) -> ListEntry | None:
        query = select(list_entries).where(
            list_entries.c.scope_id == scope_id,
            list_entries.c.direction == direction,
            list_entries.c.list_type == list_type,
            list_entries.c.entry == entry,
        )
        row = self._c.execute(query).mappings().first()
        return _entry(row) if row else None

    def add(self, entry: ListEntry) -> None:
        """Add the entry; the same entry in the same list raises Conflict."""
        write_checked(self._c, insert(list_entries), _row(entry), conflict_code="already_exists")

    def add_if_absent(self, entry: ListEntry) -> None:
        """Add the entry unless the list holds it already (also when a concurrent transaction just added it)."""
        dialect = postgresql if self._c.dialect.name == "postgresql" else sqlite
        self._c.execute(dialect.insert(list_entries).values(_row(entry)).on_conflict_do_nothing())

    def delete(self, scope_id: str, direction: Direction, list_type: ListType, entry: str) -> None:
        self._c.execute(
            delete(list_entries).where(
                list_entries.c.scope_id == scope_id,
                list_entries.c.direction == direction,
                list_entries.c.list_type == list_type,
                list_entries.c.entry == entry,
            )
        )

    def list_page(self, scope_id: str, direction: Direction, list_type: ListType, page: PageRequest) -> list[ListEntry]:
        """The list's entries by entry ascending, after the page's position (the last entry seen)."""
        query = select(list_entries).where(
            list_entries.c.scope_id == scope_id,
            list_entries.c.direction == direction,
            list_entries.c.list_type == list_type,
        )
        if page.after is not None:
            query = query.where(list_entries.c.entry > str(page.after[0]))
        query = query.order_by(list_entries.c.entry.asc()).limit(page.limit)
        return [_entry(row) for row in self._c.execute(query).mappings()]

    def matching(self, scope_ids: list[str], direction: Direction, keys: list[str]) -> list[ListEntry]:
        if not scope_ids or not keys:
            return []
        query = select(list_entries).where(
            list_entries.c.scope_id.in_(scope_ids),
            list_entries.c.direction == direction,
            list_entries.c.entry.in_(keys),
        )
        return [_entry(row) for row in self._c.execute(query).mappings()]

    def allow_scopes(self, scope_ids: list[str], direction: Direction) -> set[str]:
        """Which of the scopes keep a non-empty allow list for ``direction``."""
        if not scope_ids:
            return set()
        query = (
            select(list_entries.c.scope_id)
            .where(
                list_entries.c.scope_id.in_(scope_ids),
                list_entries.c.direction == direction,
                list_entries.c.list_type == "allow",
            )
            .distinct()
        )
        found: list[str] = list(self._c.execute(query).scalars())
        return set(found)
