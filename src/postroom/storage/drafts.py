"""The draft repository: drafts with their labels and attachments, listings, and claiming scheduled sends."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Connection, and_, delete, exists, insert, or_, select, update
from sqlalchemy.engine import RowMapping

from postroom.domain.draft import SCHEDULED, SENDING, Draft
from postroom.domain.listing import InboxScope, MailFilter
from postroom.domain.pagination import PageRequest
from postroom.storage.conditions import in_scope
from postroom.storage.keyset import seek
from postroom.storage.mail_rows import attachment_of
from postroom.storage.repositories import write_checked
from postroom.storage.tables import draft_attachments, draft_labels, drafts

_COLUMNS = [column.name for column in drafts.c]


def _has_label(label: str) -> ColumnElement[bool]:
    return exists().where(draft_labels.c.draft_id == drafts.c.draft_id, draft_labels.c.label == label)


class SqlDraftRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def _load(self, rows: list[RowMapping]) -> list[Draft]:
        found = [Draft(**{name: row[name] for name in _COLUMNS}) for row in rows]
        if found:
            by_id = {draft.draft_id: draft for draft in found}
            query = (
                select(draft_attachments)
                .where(draft_attachments.c.draft_id.in_(list(by_id)))
                .order_by(draft_attachments.c.draft_id, draft_attachments.c.position)
            )
            for row in self._c.execute(query).mappings():
                by_id[row["draft_id"]].attachments.append(attachment_of(row))
        return found

    def get(self, draft_id: str, *, lock: bool = False) -> Draft | None:
        query = select(drafts).where(drafts.c.draft_id == draft_id)
        if lock:
            query = query.with_for_update()
        found = self._load(list(self._c.execute(query).mappings()))
        return found[0] if found else None

    def get_by_client_id(self, inbox_id: str, client_id: str) -> Draft | None:
        query = select(drafts).where(drafts.c.inbox_id == inbox_id, drafts.c.client_id == client_id)
        found = self._load(list(self._c.execute(query).mappings()))
        return found[0] if found else None

    def add(self, draft: Draft) -> None:
        write_checked(self._c, insert(drafts), {name: getattr(draft, name) for name in _COLUMNS})
        self._write_children(draft)

    def update(self, draft: Draft) -> None:
        values = {name: getattr(draft, name) for name in _COLUMNS if name != "draft_id"}
        self._c.execute(update(drafts).where(drafts.c.draft_id == draft.draft_id).values(values))
        self._c.execute(delete(draft_labels).where(draft_labels.c.draft_id == draft.draft_id))
        self._c.execute(delete(draft_attachments).where(draft_attachments.c.draft_id == draft.draft_id))
        self._write_children(draft)

    def _write_children(self, draft: Draft) -> None:
        if draft.labels:
            self._c.execute(insert(draft_labels), [{"draft_id": draft.draft_id, "label": x} for x in draft.labels])
        if draft.attachments:
            rows = [
                {
                    "attachment_id": item.attachment_id,
                    "draft_id": draft.draft_id,
                    "position": position,
                    "size": item.size,
                    "filename": item.filename,
                    "content_type": item.content_type,
                    "content_disposition": item.content_disposition,
                    "content_id": item.content_id,
                    "blob_key": item.blob_key,
                }
                for position, item in enumerate(draft.attachments)
            ]
            self._c.execute(insert(draft_attachments), rows)

    def delete(self, draft_id: str) -> None:
        self._c.execute(delete(drafts).where(drafts.c.draft_id == draft_id))

    def list_page(self, scope: InboxScope, mail_filter: MailFilter, page: PageRequest) -> list[Draft]:
        conditions = [*in_scope(drafts, scope), *(_has_label(label) for label in mail_filter.labels)]
        if mail_filter.after is not None:
            conditions.append(drafts.c.updated_at >= mail_filter.after)
        if mail_filter.before is not None:
            conditions.append(drafts.c.updated_at < mail_filter.before)
        query = seek(select(drafts).where(and_(*conditions)), page, drafts.c.updated_at, drafts.c.draft_id)
        return self._load(list(self._c.execute(query).mappings()))

    def claim_due(self, now: datetime, stranded_before: datetime, limit: int) -> list[Draft]:
        """Mark up to ``limit`` drafts whose send_at has passed as sending since ``now``, and return them.

        Due means scheduled, or claimed before ``stranded_before`` by a sender that never finished (a crash).
        """
        due = or_(
            drafts.c.send_status == SCHEDULED,
            and_(drafts.c.send_status == SENDING, drafts.c.sending_since < stranded_before),
        )
        query = (
            select(drafts.c.draft_id)
            .where(drafts.c.send_at <= now, due)
            .order_by(drafts.c.send_at, drafts.c.draft_id)
            .limit(limit)
        )
        if self._c.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        ids: list[str] = list(self._c.execute(query).scalars())
        if not ids:
            return []
        self._c.execute(update(drafts).where(drafts.c.draft_id.in_(ids)).values(send_status=SENDING, sending_since=now))
        return self._load(list(self._c.execute(select(drafts).where(drafts.c.draft_id.in_(ids))).mappings()))
