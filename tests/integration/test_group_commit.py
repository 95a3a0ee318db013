"""Group commit of received mail: concurrent filings share a transaction, fail alone, and wait for their commit."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from postroom.domain.metrics import HOUR, MESSAGE_COUNT, MetricOwner, inbox_key
from postroom.errors import Conflict, NotFound
from postroom.runtime import Runtime
from postroom.services.access.inboxes import NewInbox
from postroom.services.mail.group_commit import GroupCommit
from postroom.services.mail.receive import FromInbox, InboundMessage
from postroom.services.ports import UnitOfWork
from tests.integration.test_races import mail, principal

LOCAL = FromInbox("colleague@postroom.localhost")
WAIT_SECONDS = 20


class CountingFactory:
    """The runtime's unit-of-work factory, counting the write transactions that committed."""

    def __init__(self, runtime: Runtime) -> None:
        self._factory = runtime.factory
        self.commits = 0

    def __call__(self, *, write: bool = False, durable: bool = True, snapshot: bool = True) -> Any:
        uow = self._factory(write=write, durable=durable, snapshot=snapshot)
        original = uow.commit

        def counted() -> None:
            original()
            self.commits += 1

        uow.commit = counted  # type: ignore[method-assign]
        return uow


def run_threads(count: int, work: Callable[[int], Any]) -> list[Any]:
    results: list[Any] = [None] * count

    def run(index: int) -> None:
        try:
            results[index] = work(index)
        except Exception as error:  # compared by the test
            results[index] = error

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT_SECONDS)
    assert not any(thread.is_alive() for thread in threads), "a filing never returned"
    return results


def message_count(runtime: Runtime, inbox_id: str) -> int:
    with runtime.factory() as uow:
        return uow.metrics.totals_before(inbox_key(inbox_id), [MESSAGE_COUNT], HOUR, 2**62).get(MESSAGE_COUNT, 0)


def test_filings_waiting_behind_a_commit_share_the_next_one(runtime: Runtime) -> None:
    """While one batch commits, the filings that arrive queue up and go together in one transaction."""
    factory = CountingFactory(runtime)
    group = GroupCommit(factory, runtime.wakeups)
    first_inside, release = threading.Event(), threading.Event()
    queued = threading.Semaphore(0)

    class Queue(list[Any]):
        def append(self, filing: Any) -> None:
            super().append(filing)
            queued.release()

    group._queue = Queue()

    def hold_first(uow: UnitOfWork) -> str:
        first_inside.set()
        assert release.wait(WAIT_SECONDS)
        return "first"

    holder = threading.Thread(target=lambda: group.run(hold_first))
    holder.start()
    assert first_inside.wait(WAIT_SECONDS)

    assert queued.acquire(timeout=WAIT_SECONDS)  # the held filing's own place in the queue

    results: list[Any] = []
    followers = threading.Thread(
        target=lambda: results.extend(run_threads(8, lambda index: group.run(lambda uow: index)))
    )
    followers.start()
    for _ in range(8):
        assert queued.acquire(timeout=WAIT_SECONDS), "a filing never queued behind the open transaction"
    release.set()
    holder.join(WAIT_SECONDS)
    followers.join(WAIT_SECONDS)
    assert sorted(results) == list(range(8))
    assert factory.commits == 2  # the held filing's transaction, then one for all eight


def test_a_failing_filing_is_undone_alone(runtime: Runtime) -> None:
    """A filing that raises gets its exception; its writes (and its metric counters) are rolled back, the others
    in the same transaction commit."""
    caller = principal(runtime)
    inbox_id = runtime.services.inboxes.create(caller, NewInbox(username="group")).inbox_id
    receive = runtime.services.receive
    before = message_count(runtime, inbox_id)
    gate = threading.Barrier(6, timeout=WAIT_SECONDS)
    original_file = receive._file

    def file_or_fail(uow: UnitOfWork, message: Any, classification: Any) -> None:
        original_file(uow, message, classification)  # writes the message, thread, outbox row and counters
        if b"fail" in message.subject.encode():
            raise Conflict("injected after writing")

    receive._file = file_or_fail  # type: ignore[method-assign]

    def deliver(index: int) -> list[str]:
        subject = "fail" if index == 2 else f"keep {index}"
        raw = mail(inbox_id, f"<g{index}@example.com>", subject)
        gate.wait()
        return receive.store(InboundMessage(raw, None, [inbox_id], LOCAL))

    results = run_threads(6, deliver)
    assert isinstance(results[2], Conflict)
    kept = [result for index, result in enumerate(results) if index != 2]
    assert all(isinstance(rows, list) and len(rows) == 1 for rows in kept)
    with runtime.factory() as uow:
        assert not uow.mail.message_exists(inbox_id, "<g2@example.com>")
        for index in (0, 1, 3, 4, 5):
            assert uow.mail.message_exists(inbox_id, f"<g{index}@example.com>")
    assert message_count(runtime, inbox_id) == before + 5


def test_when_the_commit_fails_every_filing_of_the_batch_gets_the_error(runtime: Runtime) -> None:
    caller = principal(runtime)
    inbox_id = runtime.services.inboxes.create(caller, NewInbox(username="doomed")).inbox_id
    failure = RuntimeError("disk full")

    def failing(*, write: bool = False, durable: bool = True) -> Any:
        uow = runtime.factory(write=write, durable=durable)

        def refuse() -> None:
            raise failure

        uow.commit = refuse  # type: ignore[method-assign]
        return uow

    group = GroupCommit(failing, runtime.wakeups)
    owner = MetricOwner(caller.organization_id, None, inbox_id)

    def write(index: int) -> str:
        def work(uow: UnitOfWork) -> str:
            uow.metrics.add(owner, {MESSAGE_COUNT: 1}, runtime.clock.now())
            return f"filed {index}"

        return group.run(work)

    results = run_threads(4, write)
    assert results == [failure] * 4
    assert message_count(runtime, inbox_id) == 0


def test_with_two_committers_two_transactions_run_at_once_and_every_filing_finishes(runtime: Runtime) -> None:
    if runtime.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer: its group commit runs one transaction at a time")
    factory = CountingFactory(runtime)
    group = GroupCommit(factory, runtime.wakeups, max_batch=4, concurrency=2)
    both_inside = threading.Barrier(2, timeout=WAIT_SECONDS)

    def file(index: int) -> int:
        def work(uow: UnitOfWork) -> int:
            if index < 2:
                both_inside.wait()  # breaks (and fails the filing) unless the two run in two open transactions
            return index

        return group.run(work)

    first_two = run_threads(2, file)
    assert first_two == [0, 1]
    assert factory.commits == 2
    results = run_threads(24, lambda index: group.run(lambda uow: index + 100))
    assert sorted(results) == [index + 100 for index in range(24)]
    assert group._committers == 0


def test_mail_for_an_inbox_deleted_since_rcpt_is_not_acknowledged(runtime: Runtime) -> None:
    """The sender is told to try again (its retry then meets a 550 at RCPT): a bounce, never a silent loss."""
    caller = principal(runtime)
    inbox_id = runtime.services.inboxes.create(caller, NewInbox(username="gone-soon")).inbox_id
    runtime.services.receive.accept_recipient(inbox_id)
    runtime.services.inboxes.delete(caller, inbox_id)
    with pytest.raises(NotFound):
        runtime.services.receive.store(
            InboundMessage(mail(inbox_id, "<late@example.com>", "late"), None, [inbox_id], LOCAL)
        )
    blobs = runtime.settings.data_dir / "blobs"
    assert not [path for path in blobs.rglob("*") if path.is_file() and inbox_id in str(path)]
