"""The full-text index of messages and the ranked, keyset-paginated search queries over it.

SQLite: an FTS5 table ``message_search`` whose rowids are ``message_search_docs.doc_id`` (a row per message that
cascades away with it; a trigger then drops the FTS row). PostgreSQL: ``message_search`` holds a GIN-indexed
``tsvector`` per message. Both index the same word tokens (``postroom.domain.search.index_document``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    String,
    Text,
    and_,
    case,
    column,
    func,
    insert,
    literal_column,
    or_,
    select,
    table,
)
from sqlalchemy.sql.selectable import Select, Subquery

from postroom.domain.listing import InboxScope, MailFilter
from postroom.domain.pagination import PageRequest
from postroom.domain.search import RANK_RECIPIENTS, RANK_SENDER, RANK_SUBJECT, RANK_WORDS, MailSearch
from postroom.storage.conditions import in_scope
from postroom.storage.mail_queries import contains, message_conditions
from postroom.storage.tables import messages, threads

search_docs = table("message_search_docs", column("doc_id", Integer), column("row_id", String))
sqlite_index = table("message_search", column("rowid", Integer), column("document", Text))
postgres_index = table("message_search", column("row_id", String), column("document", Text))
_SIMPLE: ColumnElement[str] = literal_column("'simple'::regconfig")


def index_message(connection: Connection, row_id: str, document: str) -> None:
    """Add one message's search document (``postroom.domain.search.message_document``) to the full-text index."""
    if connection.dialect.name == "postgresql":
        connection.execute(insert(postgres_index).values(row_id=row_id, document=func.to_tsvector(_SIMPLE, document)))
        return
    doc_id = connection.execute(insert(search_docs).values(row_id=row_id)).lastrowid
    connection.execute(insert(sqlite_index).values(rowid=doc_id, document=document))


def _word_match(dialect: str, terms: tuple[str, ...]) -> ColumnElement[bool] | None:
    """Messages whose indexed words start with every term (terms are letters and digits only: nothing to escape)."""
    if not terms:
        return None
    if dialect == "postgresql":
        query = func.to_tsquery(_SIMPLE, " & ".join(f"{term}:*" for term in terms))
        rows = select(postgres_index.c.row_id).where(postgres_index.c.document.op("@@")(query))
    else:
        match = " ".join(f'"{term}"*' for term in terms)
        rows = (
            select(search_docs.c.row_id)
            .join(sqlite_index, sqlite_index.c.rowid == search_docs.c.doc_id)
            .where(literal_column("message_search").op("MATCH")(match))
        )
    return messages.c.row_id.in_(rows)


def _rank(dialect: str, search: MailSearch) -> ColumnElement[int] | None:
    """Sum of the weights of what matched (subject, sender, recipients as substrings; body words); None: nothing can."""
    weighted: list[tuple[ColumnElement[bool], int]] = []
    if search.text and "\x00" not in search.text:
        recipients = [contains(messages.c[name], search.text) for name in ("to", "cc", "bcc")]
        weighted += [
            (contains(messages.c.subject, search.text), RANK_SUBJECT),
            (contains(messages.c.from_, search.text), RANK_SENDER),
            (or_(*recipients), RANK_RECIPIENTS),
        ]
    found = _word_match(dialect, search.terms)
    if found is not None:
        weighted.append((found, RANK_WORDS))
    if not weighted:
        return None
    total: ColumnElement[int] = case((weighted[0][0], weighted[0][1]), else_=0)
    for condition, weight in weighted[1:]:
        total = total + case((condition, weight), else_=0)
    return total


def _ranked_messages(dialect: str, search: MailSearch, *where: ColumnElement[bool]) -> Subquery | None:
    rank = _rank(dialect, search)
    if rank is None:
        return None
    visible = message_conditions(MailFilter(hidden_labels=search.hidden_labels))
    return select(messages, rank.label("rank")).where(*where, *visible).subquery("ranked")


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
    bounds = MailFilter(before=search.before, after=search.after)
    ranked = _ranked_messages(dialect, search, messages.c.inbox_id == inbox_id, *message_conditions(bounds))
    if ranked is None:
        return None
    query = select(ranked).where(ranked.c.rank > 0)
    return _seek(query, page, ranked.c.rank, ranked.c.timestamp, ranked.c.row_id)


def thread_search_page(
    dialect: str, scope: InboxScope, search: MailSearch, page: PageRequest
) -> Select[tuple[object, ...]] | None:
    """A page of threads holding a visible matching message, with the best such message's ``rank``.

    The time window applies to the thread's timestamp, as in the thread list.
    """
    ranked = _ranked_messages(dialect, search, *in_scope(messages, scope))
    if ranked is None:
        return None
    best = (
        select(ranked.c.thread_id, func.max(ranked.c.rank).label("rank"))
        .where(ranked.c.rank > 0)
        .group_by(ranked.c.thread_id)
        .subquery("hits")
    )
    query = select(threads, best.c.rank).join(best, best.c.thread_id == threads.c.thread_id)
    if search.after is not None:
        query = query.where(threads.c.timestamp >= search.after)
    if search.before is not None:
        query = query.where(threads.c.timestamp < search.before)
    return _seek(query, page, best.c.rank, threads.c.timestamp, threads.c.thread_id)


def thread_matches(dialect: str, thread_ids: list[str], search: MailSearch) -> Select[tuple[object, ...]] | None:
    """The visible matching messages of the given threads, with their ``rank``."""
    ranked = _ranked_messages(dialect, search, messages.c.thread_id.in_(thread_ids))
    if ranked is None:
        return None
    return select(ranked).where(ranked.c.rank > 0)
