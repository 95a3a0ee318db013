"""The full-text index of messages and the ranked, keyset-paginated search queries over it.

Every search starts from an index: each kind of match (subject, sender, recipients as substrings; body words as
prefixes) yields its ``SEARCH_CANDIDATES`` most recent matches through its index, and only that bounded union is
ranked. SQLite: FTS5 tables ``message_search`` (words) and ``message_fields`` (trigrams of subject, sender and
recipients), both keyed by ``message_search_docs.doc_id`` (a row per message that cascades away with it; a trigger
then drops the FTS rows). PostgreSQL: ``message_search`` holds a GIN-indexed ``tsvector`` per message, and
``pg_trgm`` GIN indexes on the messages' lower-cased subject, sender and recipients serve the substrings.
"""

from __future__ import annotations

import typing
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    String,
    Text,
    and_,
    bindparam,
    case,
    cast,
    column,
    exists,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    table,
    union_all,
)
from sqlalchemy.sql.selectable import Select, Subquery

from postroom.domain.listing import InboxScope, MailFilter
from postroom.domain.pagination import PageRequest
from postroom.domain.search import (
    RANK_RECIPIENTS,
    RANK_SENDER,
    RANK_SUBJECT,
    RANK_WORDS,
    SEARCH_CANDIDATES,
    MailSearch,
)
from postroom.storage.conditions import in_scope
from postroom.storage.mail_queries import contains, message_conditions
from postroom.storage.tables import messages, threads

search_docs = table("message_search_docs", column("doc_id", Integer), column("row_id", String))
sqlite_index = table("message_search", column("rowid", Integer), column("document", Text))
sqlite_fields = table(
    "message_fields", column("rowid", Integer), column("subject"), column("sender"), column("recipients")
)
postgres_index = table("message_search", column("row_id", String), column("document", Text))
_SIMPLE: ColumnElement[str] = literal_column("'simple'::regconfig")


def recipients_text(dialect: str) -> ColumnElement[str]:
    """To, Cc and Bcc (JSON text, which never holds a raw newline) on separate lines: what the trigram index holds.

    PostgreSQL's expression index ``ix_messages_recipients_trgm`` is ``lower()`` of exactly this expression.
    """
    newline: ColumnElement[str] = literal_column("E'\\n'" if dialect == "postgresql" else "char(10)", String)
    to, cc, bcc = (cast(messages.c[name], String) for name in ("to", "cc", "bcc"))
    return to.concat(newline).concat(cc).concat(newline).concat(bcc)


# Constant statements for indexing each filed message (compiled once, not keyed again per message).
_INDEX_POSTGRES = insert(postgres_index).values(
    row_id=bindparam("row_id"), document=func.to_tsvector(_SIMPLE, bindparam("document", type_=Text))
)
_ADD_SQLITE_DOC = insert(search_docs).values(row_id=bindparam("row_id"))
_INDEX_SQLITE = insert(sqlite_index).values(rowid=bindparam("rowid"), document=bindparam("document"))
_INDEX_SQLITE_FIELDS = insert(sqlite_fields).from_select(
    ["rowid", "subject", "sender", "recipients"],
    select(bindparam("doc_id", type_=Integer), messages.c.subject, messages.c.from_, recipients_text("sqlite")).where(
        messages.c.row_id == bindparam("row_id")
    ),
)


def index_message(connection: Connection, row_id: str, document: str) -> None:
    """Add one stored message's search document (``postroom.domain.search.message_document``) to the index.

    On SQLite the message's subject, sender and recipients are copied into the trigram table as well.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(_INDEX_POSTGRES, {"row_id": row_id, "document": document})
        return
    doc_id = connection.execute(_ADD_SQLITE_DOC, {"row_id": row_id}).lastrowid
    connection.execute(_INDEX_SQLITE, {"rowid": doc_id, "document": document})
    connection.execute(_INDEX_SQLITE_FIELDS, {"doc_id": doc_id, "row_id": row_id})


def _word_query(dialect: str, terms: tuple[str, ...]) -> str | ColumnElement[object]:
    """The index query for messages whose words start with every term (terms are letters and digits only)."""
    if dialect == "postgresql":
        return func.to_tsquery(_SIMPLE, " & ".join(f"{term}:*" for term in terms))
    return " ".join(f'"{term}"*' for term in terms)


def _has_words(dialect: str, terms: tuple[str, ...]) -> ColumnElement[bool]:
    """The message's indexed words start with every term: one probe of the index by the message's key."""
    query = _word_query(dialect, terms)
    if dialect == "postgresql":
        return exists().where(postgres_index.c.row_id == messages.c.row_id, postgres_index.c.document.op("@@")(query))
    return exists(
        select(literal(1))
        .select_from(search_docs.join(sqlite_index, sqlite_index.c.rowid == search_docs.c.doc_id))
        .where(search_docs.c.row_id == messages.c.row_id, literal_column("message_search").op("MATCH")(query))
    )


class _Matches:
    """The exact conditions of each kind of match for one search, and the index-driven candidate queries."""

    def __init__(self, dialect: str, search: MailSearch) -> None:
        self.dialect = dialect
        self.search = search
        text = search.text if search.text and "\x00" not in search.text else ""
        self.text = text
        self.subject = contains(messages.c.subject, text) if text else None
        self.sender = contains(messages.c.from_, text) if text else None
        recipients = [contains(messages.c[name], text) for name in ("to", "cc", "bcc")]
        self.recipients = or_(*recipients) if text else None

    def possible(self) -> bool:
        return bool(self.text or self.search.terms)

    def rank(self, word_candidate: ColumnElement[int]) -> ColumnElement[int]:
        """Sum of the weights of what matched; ``word_candidate`` is 1 where the word branch already found it."""
        total: ColumnElement[int] = literal(0)
        for condition, weight in (
            (self.subject, RANK_SUBJECT),
            (self.sender, RANK_SENDER),
            (self.recipients, RANK_RECIPIENTS),
        ):
            if condition is not None:
                total = total + case((condition, weight), else_=0)
        if self.search.terms:
            has = _has_words(self.dialect, self.search.terms)
            total = total + case((word_candidate == 1, RANK_WORDS), (has, RANK_WORDS), else_=0)
        return total

    def candidates(self, where: list[ColumnElement[bool]]) -> Subquery:
        """(row_id, word): the union of each kind's most recent matches satisfying ``where``, deduplicated."""
        branches = self._postgres_branches(where) if self.dialect == "postgresql" else self._sqlite_branches(where)
        union = union_all(*branches).subquery("matched")
        return (
            select(union.c.row_id, func.max(union.c.word).label("word")).group_by(union.c.row_id).subquery("candidates")
        )

    def _postgres_branches(self, where: list[ColumnElement[bool]]) -> list[Select[tuple[object, ...]]]:
        def recent(query: Select[tuple[object, ...]]) -> Select[tuple[object, ...]]:
            ordered = query.where(*where).order_by(messages.c.timestamp.desc(), messages.c.row_id.desc())
            return select(ordered.limit(SEARCH_CANDIDATES).subquery())

        branches = []
        if self.subject is not None and self.sender is not None and self.recipients is not None:
            pattern = contains(typing.cast("ColumnElement[object]", recipients_text(self.dialect)), self.text)
            for condition in (self.subject, self.sender, and_(pattern, self.recipients)):
                branches.append(recent(select(messages.c.row_id, literal(0).label("word")).where(condition)))
        if self.search.terms:
            query = _word_query(self.dialect, self.search.terms)
            words = (
                select(messages.c.row_id, literal(1).label("word"))
                .join(postgres_index, postgres_index.c.row_id == messages.c.row_id)
                .where(postgres_index.c.document.op("@@")(query))
            )
            branches.append(recent(words))
        return branches

    def _sqlite_branches(self, where: list[ColumnElement[bool]]) -> list[Select[tuple[object, ...]]]:
        """FTS5 yields matches newest-stored first (by doc_id), so each branch stops after its candidates."""

        def recent(fts: ColumnElement[int], word: int, *conditions: ColumnElement[bool]) -> Select[tuple[object, ...]]:
            query = (
                select(messages.c.row_id, literal(word).label("word"))
                .join(search_docs, search_docs.c.row_id == messages.c.row_id)
                .where(search_docs.c.doc_id == fts, *conditions, *where)
                .order_by(fts.desc())
                .limit(SEARCH_CANDIDATES)
            )
            return select(query.subquery())

        branches = []
        if self.subject is not None and self.sender is not None and self.recipients is not None:
            # FTS5 serves LIKE from its trigrams only without ESCAPE: a needle's own % and _ widen the index match,
            # and the exact condition then decides.
            pattern = f"%{self.text}%"
            rowid = sqlite_fields.c.rowid
            for name, condition in (
                ("subject", self.subject),
                ("sender", self.sender),
                ("recipients", self.recipients),
            ):
                branches.append(recent(rowid, 0, sqlite_fields.c[name].like(pattern), condition))
        if self.search.terms:
            match = literal_column("message_search").op("MATCH")(_word_query(self.dialect, self.search.terms))
            branches.append(recent(sqlite_index.c.rowid, 1, match))
        return branches


def _visible(search: MailSearch) -> list[ColumnElement[bool]]:
    return message_conditions(MailFilter(hidden_labels=search.hidden_labels))


def _ranked(matches: _Matches, where: list[ColumnElement[bool]]) -> Subquery:
    """The visible candidates' keys with their ``rank`` (every candidate matched, so each rank is > 0).

    Narrow rows, so that ordering the candidates sorts keys, not messages. Hidden mail is dropped after the
    candidates are chosen: one check per candidate instead of one per row a branch reads.
    """
    found = matches.candidates(where)
    return (
        select(
            messages.c.row_id,
            messages.c.thread_id,
            messages.c.timestamp,
            matches.rank(found.c.word).label("rank"),
        )
        .join(found, found.c.row_id == messages.c.row_id)
        .where(*_visible(matches.search))
        .subquery("ranked")
    )


def _seek(
    query: Select[tuple[object, ...]],
    page: PageRequest,
    rank: ColumnElement[int],
    timestamp: ColumnElement[datetime],
    identifier: ColumnElement[str],
) -> Select[tuple[object, ...]]:
    """Best rank first, then newest, then id descending; start after the page's (rank, timestamp, id)."""
    if page.after is not None:
        at_rank, at, key = int(page.after[0]), datetime.fromisoformat(str(page.after[1])), str(page.after[2])
        later = or_(timestamp < at, and_(timestamp == at, identifier < key))
        query = query.where(or_(rank < at_rank, and_(rank == at_rank, later)))
    return query.order_by(rank.desc(), timestamp.desc(), identifier.desc()).limit(page.limit)


def message_search_page(
    dialect: str, inbox_id: str, search: MailSearch, page: PageRequest
) -> Select[tuple[object, ...]] | None:
    """A page of an inbox's matching messages with their ``rank``; None when the query can match nothing."""
    matches = _Matches(dialect, search)
    if not matches.possible():
        return None
    bounds = message_conditions(MailFilter(before=search.before, after=search.after))
    ranked = _ranked(matches, [messages.c.inbox_id == inbox_id, *bounds])
    top = _seek(select(ranked), page, ranked.c.rank, ranked.c.timestamp, ranked.c.row_id).subquery("top")
    return (
        select(messages, top.c.rank)
        .join(top, top.c.row_id == messages.c.row_id)
        .order_by(top.c.rank.desc(), messages.c.timestamp.desc(), messages.c.row_id.desc())
    )


def thread_search_page(
    dialect: str, scope: InboxScope, search: MailSearch, page: PageRequest
) -> Select[tuple[object, ...]] | None:
    """A page of threads holding a visible matching message, with the best such message's ``rank``.

    The time window applies to the thread's timestamp, as in the thread list.
    """
    matches = _Matches(dialect, search)
    if not matches.possible():
        return None
    ranked = _ranked(matches, in_scope(messages, scope))
    best = (
        select(ranked.c.thread_id, func.max(ranked.c.rank).label("rank")).group_by(ranked.c.thread_id).subquery("hits")
    )
    query = select(threads, best.c.rank).join(best, best.c.thread_id == threads.c.thread_id)
    if search.after is not None:
        query = query.where(threads.c.timestamp >= search.after)
    if search.before is not None:
        query = query.where(threads.c.timestamp < search.before)
    return _seek(query, page, best.c.rank, threads.c.timestamp, threads.c.thread_id)


def thread_matches(
    dialect: str, scope: InboxScope, thread_ids: list[str], search: MailSearch
) -> Select[tuple[object, ...]] | None:
    """The visible matching messages of the given threads among the same candidates, with their ``rank``.

    The candidates are those that ranked the threads, so each thread's best message is the one that gave it its rank,
    and no message is probed beyond them.
    """
    matches = _Matches(dialect, search)
    if not matches.possible():
        return None
    ranked = _ranked(matches, in_scope(messages, scope))
    return (
        select(messages, ranked.c.rank)
        .join(ranked, ranked.c.row_id == messages.c.row_id)
        .where(ranked.c.thread_id.in_(thread_ids))
    )
