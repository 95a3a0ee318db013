"""The shared queues' backlog for monitoring: read from the database, so every process reports the same."""

from __future__ import annotations

from postroom.domain.metrics import Backlog
from postroom.services.ports import Clock, UnitOfWorkFactory


class BacklogReader:
    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow_factory
        self._clock = clock

    def __call__(self) -> Backlog:
        with self._uow() as uow:
            return uow.metrics.backlog(self._clock.now())
