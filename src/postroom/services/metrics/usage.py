"""Usage counters (storage, messages, threads, inboxes, domains, pods) changed in the transaction of the change."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from postroom.domain.access import Pod
from postroom.domain.custom_domains import CustomDomain
from postroom.domain.inbox import Inbox
from postroom.domain.message import Message
from postroom.domain.metrics import (
    DOMAIN_COUNT,
    HOUR,
    INBOX_COUNT,
    INBOX_USAGE,
    MESSAGE_COUNT,
    POD_COUNT,
    STORAGE_BYTES,
    THREAD_COUNT,
    MetricOwner,
    inbox_key,
)
from postroom.services.ports import UnitOfWork

_ALL_TIME = 2**62


def _owner(message: Message) -> MetricOwner:
    return MetricOwner(message.organization_id, message.pod_id, message.inbox_id)


def message_filed(uow: UnitOfWork, message: Message, *, new_thread: bool) -> None:
    increments = {MESSAGE_COUNT: 1, STORAGE_BYTES: message.size, THREAD_COUNT: 1 if new_thread else 0}
    uow.metrics.add(_owner(message), increments, message.created_at)


def messages_deleted(uow: UnitOfWork, messages: Iterable[Message], now: datetime) -> None:
    """Count deleted messages, and the threads they left empty; call after the threads were refreshed."""
    by_inbox: dict[MetricOwner, list[Message]] = {}
    for message in messages:
        by_inbox.setdefault(_owner(message), []).append(message)
    for owner, doomed in by_inbox.items():
        threads = dict.fromkeys(message.thread_id for message in doomed)
        gone = sum(1 for thread_id in threads if uow.mail.get_thread(thread_id) is None)
        increments = {
            MESSAGE_COUNT: -len(doomed),
            STORAGE_BYTES: -sum(message.size for message in doomed),
            THREAD_COUNT: -gone,
        }
        uow.metrics.add(owner, increments, now)


def inbox_created(uow: UnitOfWork, inbox: Inbox) -> None:
    uow.metrics.add(MetricOwner(inbox.organization_id, inbox.pod_id), {INBOX_COUNT: 1}, inbox.created_at)


def inbox_deleted(uow: UnitOfWork, inbox: Inbox, now: datetime) -> None:
    """The inbox and everything it held leave its pod's and organization's totals; its own counters go."""
    held = uow.metrics.totals_before(inbox_key(inbox.inbox_id), list(INBOX_USAGE), HOUR, _ALL_TIME)
    increments = {metric: -amount for metric, amount in held.items()} | {INBOX_COUNT: -1}
    uow.metrics.add(MetricOwner(inbox.organization_id, inbox.pod_id), increments, now)
    uow.metrics.forget(inbox_key(inbox.inbox_id))


def pod_counted(uow: UnitOfWork, pod: Pod, change: int, at: datetime) -> None:
    uow.metrics.add(MetricOwner(pod.organization_id), {POD_COUNT: change}, at)


def domain_counted(uow: UnitOfWork, domain: CustomDomain, change: int, at: datetime) -> None:
    uow.metrics.add(MetricOwner(domain.organization_id, domain.pod_id), {DOMAIN_COUNT: change}, at)
