"""Keyset (seek) conditions and ordering for pages sorted by a timestamp with an id as tie-breaker."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, or_

from postroom.domain.pagination import PageRequest


def _as_datetime(value: object) -> datetime:
    if not isinstance(value, str):
        raise ValueError("position timestamp must be a string")
    return datetime.fromisoformat(value)


def seek(
    query: Select[tuple[object, ...]],
    page: PageRequest,
    timestamp: ColumnElement[datetime],
    identifier: ColumnElement[str],
) -> Select[tuple[object, ...]]:
    """Order by (timestamp, id) in the page's direction and start after the page's position."""
    if page.after is not None:
        at, key = _as_datetime(page.after[0]), str(page.after[1])
        # The plain bound on the timestamp alone lets both databases seek the index instead of filtering rows.
        if page.ascending:
            query = query.where(timestamp >= at, or_(timestamp > at, and_(timestamp == at, identifier > key)))
        else:
            query = query.where(timestamp <= at, or_(timestamp < at, and_(timestamp == at, identifier < key)))
    if page.ascending:
        return query.order_by(timestamp.asc(), identifier.asc()).limit(page.limit)
    return query.order_by(timestamp.desc(), identifier.desc()).limit(page.limit)
