"""Filtered, keyset-paginated listings of messages and threads (labels, time window, substrings, hidden labels)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, String, and_, cast, exists, func, not_, select
from sqlalchemy.sql.selectable import Select

from postroom.domain.listing import InboxScope, MailFilter
from postroom.domain.pagination import PageRequest
from postroom.storage.conditions import escape_like, in_scope
from postroom.storage.keyset import seek
from postroom.storage.tables import message_labels, messages, threads


def contains(column: ColumnElement[object], needle: str) -> ColumnElement[bool]:
    return func.lower(cast(column, String)).like(f"%{escape_like(needle.lower())}%", escape="\\")


def _message_has_label(label: str) -> ColumnElement[bool]:
    return exists().where(message_labels.c.row_id == messages.c.row_id, message_labels.c.label == label)


def _message_hidden(hidden: frozenset[str]) -> ColumnElement[bool]:
    return exists().where(message_labels.c.row_id == messages.c.row_id, message_labels.c.label.in_(sorted(hidden)))


def _to_cc_bcc(value: str) -> ColumnElement[bool]:
    return contains(messages.c.to, value) | contains(messages.c.cc, value) | contains(messages.c.bcc, value)


def message_conditions(mail_filter: MailFilter) -> list[ColumnElement[bool]]:
    conditions = [_message_has_label(label) for label in mail_filter.labels]
    if mail_filter.hidden_labels:
        conditions.append(not_(_message_hidden(mail_filter.hidden_labels)))
    if mail_filter.after is not None:
        conditions.append(messages.c.timestamp >= mail_filter.after)
    if mail_filter.before is not None:
        conditions.append(messages.c.timestamp < mail_filter.before)
    conditions += [contains(messages.c.from_, value) for value in mail_filter.senders]
    conditions += [_to_cc_bcc(value) for value in mail_filter.recipients]
    conditions += [contains(messages.c.subject, value) for value in mail_filter.subject]
    return conditions


def messages_page(inbox_id: str, mail_filter: MailFilter, page: PageRequest) -> Select[tuple[object, ...]]:
    query = select(messages).where(messages.c.inbox_id == inbox_id, *message_conditions(mail_filter))
    return seek(query, page, messages.c.timestamp, messages.c.row_id)


def _thread_has(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    return exists().where(messages.c.thread_id == threads.c.thread_id, condition)


def thread_conditions(mail_filter: MailFilter) -> list[ColumnElement[bool]]:
    """Each content condition must hold for a message of the thread the caller may see.

    So hidden mail (spam, trash, ...) can neither make a thread match nor be probed through these filters.
    """
    visible = [not_(_message_hidden(mail_filter.hidden_labels))] if mail_filter.hidden_labels else []
    conditions = [_thread_has(and_(*visible, _message_has_label(label))) for label in mail_filter.labels]
    conditions += [_thread_has(and_(*visible, contains(messages.c.from_, value))) for value in mail_filter.senders]
    conditions += [_thread_has(and_(*visible, _to_cc_bcc(value))) for value in mail_filter.recipients]
    conditions += [_thread_has(and_(*visible, contains(messages.c.subject, value))) for value in mail_filter.subject]
    if visible:
        conditions.append(_thread_has(and_(*visible)))
    if mail_filter.after is not None:
        conditions.append(threads.c.timestamp >= mail_filter.after)
    if mail_filter.before is not None:
        conditions.append(threads.c.timestamp < mail_filter.before)
    return conditions


def threads_page(scope: InboxScope, mail_filter: MailFilter, page: PageRequest) -> Select[tuple[object, ...]]:
    query = select(threads).where(and_(*in_scope(threads, scope), *thread_conditions(mail_filter)))
    return seek(query, page, threads.c.timestamp, threads.c.thread_id)
