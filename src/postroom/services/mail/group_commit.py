"""Group commit: filings from concurrent deliveries share one write transaction, so one durable commit (one fsync).

Each filing runs in its own savepoint, so one that fails (a duplicate, an inbox deleted meanwhile) is undone alone
and its caller gets its exception; the others commit together. A caller returns only after the commit that holds
its filing, and gets the commit's error when that commit fails: nothing is acknowledged before it is durable.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from postroom.services.outbox import commit_and_wake
from postroom.services.ports import UnitOfWork, UnitOfWorkFactory, Wakeups

T = TypeVar("T")
MAX_BATCH = 32  # bounds how long one transaction holds the write lock


class _Filing(Generic[T]):
    def __init__(self, work: Callable[[UnitOfWork], T]) -> None:
        self.work = work
        self.leads = False  # this filing's thread is one of the committers
        self.finished = False
        self.value: T | None = None
        self.error: BaseException | None = None

    def outcome(self) -> T:
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[return-value]  # set by a finished filing that raised nothing


class GroupCommit:
    """Runs ``work(uow)`` for many threads in shared transactions, at most ``concurrency`` transactions at once.

    No thread of its own: a caller that finds a committer's place free commits the queue's head batches until its
    own filing is committed, then hands its place to the oldest waiting caller. One place suits a database with
    one writer (SQLite); on PostgreSQL a few let the database work on several batches at once.
    """

    def __init__(
        self, uow_factory: UnitOfWorkFactory, wakeups: Wakeups, max_batch: int = MAX_BATCH, concurrency: int = 1
    ) -> None:
        self._uow = uow_factory
        self._wakeups = wakeups
        self._max_batch = max(1, max_batch)
        self._concurrency = max(1, concurrency)
        self._changed = threading.Condition()
        self._queue: list[_Filing[object]] = []
        self._committers = 0

    def run(self, work: Callable[[UnitOfWork], T]) -> T:
        """``work``'s result once the transaction it ran in has committed; its exception, or the commit's."""
        filing: _Filing[T] = _Filing(work)
        shared: _Filing[object] = filing  # type: ignore[assignment]  # filings of every result type share the queue
        with self._changed:
            self._queue.append(shared)
            if self._committers < self._concurrency:
                self._committers += 1
                filing.leads = True
            else:
                self._changed.wait_for(lambda: filing.finished or filing.leads)
        try:
            while not filing.finished:
                with self._changed:
                    batch = self._queue[: self._max_batch]
                    del self._queue[: self._max_batch]
                    if not batch:  # another committer holds our filing: give our place up and wait for it
                        self._committers -= 1
                        filing.leads = False
                        self._changed.wait_for(lambda: filing.finished)
                        break
                try:
                    self._commit(batch)
                finally:
                    with self._changed:
                        for done in batch:
                            done.finished = True
                        self._changed.notify_all()
        finally:
            if filing.leads:
                self._hand_on()
        return filing.outcome()

    def _hand_on(self) -> None:
        """Our committer's place goes to the oldest caller still waiting for one, or is given up."""
        with self._changed:
            waiting = next((queued for queued in self._queue if not queued.leads), None)
            if waiting is None:
                self._committers -= 1
            else:
                waiting.leads = True
                self._changed.notify_all()

    def _commit(self, batch: list[_Filing[object]]) -> None:
        try:
            with self._uow(write=True) as uow:
                for filing in batch:
                    try:
                        with uow.savepoint():
                            filing.value = filing.work(uow)
                    except Exception as error:
                        filing.error = error
                commit_and_wake(uow, self._wakeups)
        except BaseException as error:  # nothing of this batch committed: every caller learns it
            for filing in batch:
                if filing.error is None:
                    filing.error = error
            if not isinstance(error, Exception):
                raise
