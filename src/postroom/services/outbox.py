"""Committing a transaction that wrote outbox rows, then telling the events dispatcher about them (Wakeups)."""

from __future__ import annotations

from postroom.services.ports import UnitOfWork, Wakeups


def commit_and_wake(uow: UnitOfWork, wakeups: Wakeups) -> None:
    uow.commit()
    if event_ids := uow.outbox.added_ids():
        wakeups.outbox_committed(event_ids)
