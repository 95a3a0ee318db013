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
        self.signal = threading.Event()  # set when the filing is finished or its thread is to commit the next batch
        self.finished = False
        self.value: T | None = None
        self.error: BaseException | None = None

    def outcome(self) -> T:
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[return-value]  # set by a finished filing that raised nothing


class GroupCommit:
    """Runs ``work(uow)`` for many threads in shared transactions.

    No thread of its own: the first caller to find no commit under way commits the queue's head batch, then hands
    the turn to the oldest waiting caller, so no caller waits for more than the batches ahead of its own.
    """

    def __init__(self, uow_factory: UnitOfWorkFactory, wakeups: Wakeups, max_batch: int = MAX_BATCH) -> None:
        self._uow = uow_factory
        self._wakeups = wakeups
        self._max_batch = max(1, max_batch)
        self._lock = threading.Lock()
        self._queue: list[_Filing[object]] = []
        self._committing = False

    def run(self, work: Callable[[UnitOfWork], T]) -> T:
        """``work``'s result once the transaction it ran in has committed; its exception, or the commit's."""
        filing: _Filing[T] = _Filing(work)
        with self._lock:
            self._queue.append(filing)  # type: ignore[arg-type]  # filings of every result type share the queue
            leads = not self._committing
            self._committing = True
        if not leads:
            filing.signal.wait()
        if not filing.finished:  # our turn: our filing is at the head of the queue
            self._commit_head()
        return filing.outcome()

    def _commit_head(self) -> None:
        with self._lock:
            batch = self._queue[: self._max_batch]
            del self._queue[: self._max_batch]
        try:
            self._commit(batch)
        finally:
            with self._lock:
                if self._queue:
                    self._queue[0].signal.set()  # the next batch is committed by its oldest caller
                else:
                    self._committing = False
            for filing in batch:
                filing.finished = True
                filing.signal.set()

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
