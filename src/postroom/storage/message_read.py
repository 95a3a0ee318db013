"""One message by id with its attachments in a single statement: the attachments as a JSON array beside the row.

A point read is the API's most frequent query; one statement instead of two saves a round trip on PostgreSQL and
the statement overhead on both databases.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import ColumnElement, Connection, Text, bindparam, cast, func, select
from sqlalchemy.sql.selectable import Select

from postroom.domain.message import Message
from postroom.storage.mail_rows import MESSAGE_COLUMNS, attachment_of
from postroom.storage.tables import attachments, messages

# An attachment's fields, and its position for the order, which the aggregate does not keep.
_ATTACHMENT_KEYS = (
    "attachment_id",
    "size",
    "filename",
    "content_type",
    "content_disposition",
    "content_id",
    "blob_key",
    "position",
)


def _attachments_array(dialect: str) -> ColumnElement[Any]:
    """The message's attachments as one JSON text (``[]`` or NULL when it has none); their order is restored in
    Python, since SQLite before 3.44 cannot order inside an aggregate."""
    pairs: list[Any] = []
    for key in _ATTACHMENT_KEYS:
        pairs += [key, attachments.c[key]]
    if dialect == "postgresql":
        array = func.json_agg(func.json_build_object(*pairs))
    else:
        array = func.json_group_array(func.json_object(*pairs))
    found = select(array).where(attachments.c.row_id == messages.c.row_id)
    return cast(found.scalar_subquery(), Text).label("attachments_json")


def _statement(dialect: str, lock: bool) -> Select[Any]:
    query = select(*messages.c, _attachments_array(dialect)).where(
        messages.c.inbox_id == bindparam("inbox_id"), messages.c.message_id == bindparam("message_id")
    )
    return query.with_for_update(of=messages) if lock else query


# Built once per dialect and lock mode: a reused statement skips rebuilding it and its cache key on every read.
_STATEMENTS: dict[tuple[str, bool], Select[Any]] = {}


def read_message(connection: Connection, inbox_id: str, message_id: str, *, lock: bool = False) -> Message | None:
    key = (connection.dialect.name, lock)
    statement = _STATEMENTS.get(key)
    if statement is None:
        statement = _STATEMENTS[key] = _statement(*key)
    row = connection.execute(statement, {"inbox_id": inbox_id, "message_id": message_id}).first()
    if row is None:
        return None
    values: dict[str, Any] = dict(zip(MESSAGE_COLUMNS, row, strict=False))  # the JSON array comes last
    message = Message(**values)
    parts = json.loads(row[-1]) if row[-1] else []
    parts.sort(key=lambda part: part["position"])
    message.attachments = [attachment_of(part) for part in parts]
    return message
