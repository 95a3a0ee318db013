"""The mail repository: messages (with labels and attachments), threads and thread keys."""

from __future__ import annotations

import hashlib

from sqlalchemy import ColumnElement, Connection, Insert, bindparam, delete, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import RowMapping
from sqlalchemy.sql.selectable import Select

from postroom.domain.listing import InboxScope, MailFilter
from postroom.domain.message import Message, Thread, summarize
from postroom.domain.pagination import PageRequest
from postroom.domain.search import MailSearch, MessageHit, ThreadHit
from postroom.storage.bounded import bounded
from postroom.storage.keyset import seek
from postroom.storage.mail_queries import message_conditions, messages_page, threads_page
from postroom.storage.mail_rows import MESSAGE_COLUMNS, attachment_of, message_of
from postroom.storage.mail_search import index_message, message_search_page, thread_matches, thread_search_page
from postroom.storage.message_read import read_message
from postroom.storage.repositories import write_checked
from postroom.storage.tables import attachments, message_labels, messages, thread_keys, threads

_THREAD_COLUMNS = [column.name for column in threads.c]
# One constant statement, so every thread update reuses the compiled SQL.
_UPDATE_THREAD = (
    update(threads)
    .where(threads.c.thread_id == bindparam("new_thread_id"))
    .values({name: bindparam(f"new_{name}") for name in _THREAD_COLUMNS if name != "thread_id"})
)

# Constant statements for the writes and lookups of every filed message: their compiled SQL and cache keys are
# reused, where a statement built per call is keyed again each time.
_MESSAGE_EXISTS = (
    select(messages.c.row_id)
    .where(messages.c.inbox_id == bindparam("inbox_id"), messages.c.message_id == bindparam("message_id"))
    .limit(1)
)
_THREAD_FOR_KEYS = (
    select(thread_keys.c.thread_id)
    .where(
        thread_keys.c.inbox_id == bindparam("inbox_id"),
        thread_keys.c.message_id.in_(bindparam("keys", expanding=True)),
    )
    .limit(1)
)
_INSERT_THREAD = insert(threads)
_INSERT_MESSAGE = insert(messages)
_INSERT_LABELS = insert(message_labels)
# Executed with a list of rows (executemany): one compiled statement per dialect, unlike a multi-row VALUES whose
# SQL changes with the number of rows.
_ADD_THREAD_KEYS: dict[str, Insert] = {
    "postgresql": postgresql.insert(thread_keys).on_conflict_do_nothing(),
    "sqlite": sqlite.insert(thread_keys).on_conflict_do_nothing(),
}


def _thread_key_lock(inbox_id: str, key: str) -> int:
    """A signed 64-bit advisory lock id for one thread key of one inbox."""
    digest = hashlib.sha256(f"thread-key\0{inbox_id}\0{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


DEFAULT_SEARCH_TIMEOUT_SECONDS = 2.0
# Built once: a statement reused with bound values skips rebuilding it and its cache key on every read.
_ATTACHMENTS_OF_ONE = (
    select(attachments).where(attachments.c.row_id == bindparam("row_id")).order_by(attachments.c.position)
)


class SqlMailRepository:
    def __init__(self, connection: Connection, search_timeout_seconds: float = DEFAULT_SEARCH_TIMEOUT_SECONDS) -> None:
        self._c = connection
        self._search_timeout = search_timeout_seconds

    def message_exists(self, inbox_id: str, message_id: str) -> bool:
        return self._c.execute(_MESSAGE_EXISTS, {"inbox_id": inbox_id, "message_id": message_id}).first() is not None

    def lock_thread_keys(self, inbox_id: str, keys: list[str]) -> None:
        # PostgreSQL: one transaction-scoped advisory lock per key, taken in a fixed order (no deadlock between
        # messages sharing several keys). SQLite write transactions already run one at a time.
        if self._c.dialect.name != "postgresql":
            return
        for lock_id in sorted({_thread_key_lock(inbox_id, key) for key in keys}):
            self._c.execute(text("SELECT pg_advisory_xact_lock(:lock_id)"), {"lock_id": lock_id})

    def thread_for_keys(self, inbox_id: str, keys: list[str]) -> str | None:
        if not keys:
            return None
        return self._c.execute(_THREAD_FOR_KEYS, {"inbox_id": inbox_id, "keys": keys}).scalar()

    def add_thread_keys(self, inbox_id: str, keys: list[str], thread_id: str) -> None:
        if keys:
            rows: list[dict[str, object]] = [
                {"inbox_id": inbox_id, "message_id": key, "thread_id": thread_id} for key in keys
            ]
            self._c.execute(_ADD_THREAD_KEYS[self._c.dialect.name], rows)

    def _thread(self, row: RowMapping) -> Thread:
        return Thread(**{name: row[name] for name in _THREAD_COLUMNS})

    def lock_thread(self, thread_id: str) -> Thread | None:
        query = select(threads).where(threads.c.thread_id == thread_id).with_for_update()
        row = self._c.execute(query).mappings().first()
        return self._thread(row) if row else None

    def add_thread(self, thread: Thread) -> None:
        write_checked(self._c, _INSERT_THREAD, {name: getattr(thread, name) for name in _THREAD_COLUMNS})

    def update_thread(self, thread: Thread) -> None:
        self._c.execute(_UPDATE_THREAD, {f"new_{name}": getattr(thread, name) for name in _THREAD_COLUMNS})

    def add_message(self, message: Message, search_document: str) -> None:
        write_checked(self._c, _INSERT_MESSAGE, {name: getattr(message, name) for name in MESSAGE_COLUMNS})
        index_message(self._c, message.row_id, search_document)
        if message.labels:
            self._c.execute(_INSERT_LABELS, [{"row_id": message.row_id, "label": x} for x in message.labels])
        if message.attachments:
            rows = [
                {
                    "attachment_id": item.attachment_id,
                    "row_id": message.row_id,
                    "position": position,
                    "size": item.size,
                    "filename": item.filename,
                    "content_type": item.content_type,
                    "content_disposition": item.content_disposition,
                    "content_id": item.content_id,
                    "blob_key": item.blob_key,
                }
                for position, item in enumerate(message.attachments)
            ]
            self._c.execute(insert(attachments), rows)

    def _messages(self, condition: ColumnElement[bool]) -> list[Message]:
        return self._load(select(messages).where(condition).order_by(messages.c.timestamp, messages.c.row_id))

    def _load(self, query: Select[tuple[object, ...]], values: dict[str, str] | None = None) -> list[Message]:
        return self._attach([message_of(row) for row in self._c.execute(query, values).mappings()])

    def _attach(self, found: list[Message]) -> list[Message]:
        """Load the attachments of the given messages, in order."""
        if found:
            by_row = {message.row_id: message for message in found}
            if len(found) == 1:  # an expanding IN is re-rendered on every execution; one row needs none
                parts = self._c.execute(_ATTACHMENTS_OF_ONE, {"row_id": found[0].row_id})
            else:
                in_order = attachments.c.position
                parts = self._c.execute(select(attachments).where(attachments.c.row_id.in_(by_row)).order_by(in_order))
            for row in parts.mappings():
                by_row[row["row_id"]].attachments.append(attachment_of(row))
        return found

    def list_messages(self, inbox_id: str, mail_filter: MailFilter, page: PageRequest) -> list[Message]:
        return self._load(messages_page(inbox_id, mail_filter, page))

    def _serial_plans(self) -> None:
        """A search reads a bounded set of rows; starting parallel workers for it costs more than it saves."""
        if self._c.dialect.name == "postgresql":
            self._c.exec_driver_sql("SET LOCAL max_parallel_workers_per_gather = 0")

    def search_messages(self, inbox_id: str, search: MailSearch, page: PageRequest) -> list[MessageHit]:
        query = message_search_page(self._c.dialect.name, inbox_id, search, page)
        if query is None:
            return []
        with bounded(self._c, self._search_timeout, "search"):
            self._serial_plans()
            rows = list(self._c.execute(query).mappings())
        found = self._attach([message_of(row) for row in rows])
        return [MessageHit(message, int(row["rank"])) for message, row in zip(found, rows, strict=True)]

    def search_threads(self, scope: InboxScope, search: MailSearch, page: PageRequest) -> list[ThreadHit]:
        query = thread_search_page(self._c.dialect.name, scope, search, page)
        if query is None:
            return []
        with bounded(self._c, self._search_timeout, "search"):
            self._serial_plans()
            rows = list(self._c.execute(query).mappings())
            matches = thread_matches(self._c.dialect.name, scope, [row["thread_id"] for row in rows], search)
            if matches is None or not rows:
                return []
            found = [(int(row["rank"]), message_of(row)) for row in self._c.execute(matches).mappings()]
        found.sort(key=lambda item: (item[0], item[1].timestamp, item[1].row_id), reverse=True)
        best: dict[str, Message] = {}
        for _rank, message in found:
            best.setdefault(message.thread_id, message)
        return [
            ThreadHit(self._thread(row), int(row["rank"]), best[row["thread_id"]])
            for row in rows
            if row["thread_id"] in best
        ]

    def list_threads(self, scope: InboxScope, mail_filter: MailFilter, page: PageRequest) -> list[Thread]:
        return [self._thread(row) for row in self._c.execute(threads_page(scope, mail_filter, page)).mappings()]

    def get_thread(self, thread_id: str) -> Thread | None:
        row = self._c.execute(select(threads).where(threads.c.thread_id == thread_id)).mappings().first()
        if row is None:
            return None
        thread = self._thread(row)
        parts = (
            select(attachments)
            .join(messages, messages.c.row_id == attachments.c.row_id)
            .where(messages.c.thread_id == thread_id)
            .order_by(messages.c.timestamp, messages.c.row_id, attachments.c.position)
        )
        thread.attachments = [attachment_of(part) for part in self._c.execute(parts).mappings()]
        return thread

    def thread_messages_page(self, thread_id: str, mail_filter: MailFilter, page: PageRequest) -> list[Message]:
        query = select(messages).where(messages.c.thread_id == thread_id, *message_conditions(mail_filter))
        return self._load(seek(query, page, messages.c.timestamp, messages.c.row_id))

    def set_labels(self, message: Message) -> None:
        self._c.execute(message_labels.delete().where(message_labels.c.row_id == message.row_id))
        if message.labels:
            self._c.execute(_INSERT_LABELS, [{"row_id": message.row_id, "label": x} for x in message.labels])
        values = {"labels": message.labels, "updated_at": message.updated_at}
        self._c.execute(update(messages).where(messages.c.row_id == message.row_id).values(**values))

    def delete_message(self, row_id: str) -> None:
        self._c.execute(delete(messages).where(messages.c.row_id == row_id))

    def delete_thread(self, thread_id: str) -> None:
        self._c.execute(delete(threads).where(threads.c.thread_id == thread_id))

    def refresh_thread(self, thread_id: str) -> None:
        """Recompute a thread's summary from its messages; a thread left without messages is deleted."""
        thread = self.lock_thread(thread_id)
        remaining = self._messages(messages.c.thread_id == thread_id)
        if thread is None:
            return
        if not remaining:
            self.delete_thread(thread_id)
            return
        summarize(thread, remaining)
        self.update_thread(thread)

    def get_message(self, inbox_id: str, message_id: str, *, lock: bool = False) -> Message | None:
        return read_message(self._c, inbox_id, message_id, lock=lock)

    def get_message_row(self, row_id: str, *, lock: bool = False) -> Message | None:
        query = select(messages).where(messages.c.row_id == row_id)
        found = self._load(query.with_for_update() if lock else query)
        return found[0] if found else None

    def thread_messages(self, thread_id: str) -> list[Message]:
        return self._messages(messages.c.thread_id == thread_id)
