"""SQL conditions shared by the repositories: scope restrictions and escaped LIKE patterns."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Table

from postroom.domain.listing import InboxScope


def in_scope(table: Table, scope: InboxScope) -> list[ColumnElement[bool]]:
    """Rows of ``table`` (which has organization_id, pod_id and inbox_id columns) inside ``scope``."""
    conditions = [table.c.organization_id == scope.organization_id]
    if scope.pod_id is not None:
        conditions.append(table.c.pod_id == scope.pod_id)
    if scope.inbox_id is not None:
        conditions.append(table.c.inbox_id == scope.inbox_id)
    return conditions


def escape_like(term: str) -> str:
    """``term`` as a literal inside a LIKE pattern written with ``escape="\\"``."""
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
