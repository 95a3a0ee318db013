"""The unit of work: one connection and one transaction for one use case, with its repositories."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType

from sqlalchemy import Engine, text

from postroom.storage.domains import SqlCustomDomainRepository
from postroom.storage.drafts import SqlDraftRepository
from postroom.storage.engine import NO_SNAPSHOT_FLAG, WRITE_FLAG
from postroom.storage.events import (
    SqlInboxEventRepository,
    SqlOutboxRepository,
    SqlWebhookDeliveryRepository,
    SqlWebhookRepository,
)
from postroom.storage.lists import SqlListEntryRepository
from postroom.storage.mail import DEFAULT_SEARCH_TIMEOUT_SECONDS, SqlMailRepository
from postroom.storage.metrics import (
    SqlMetricsRepository,
    discard_rollups,
    flush_rollups,
    pending_rollups,
    restore_rollups,
)
from postroom.storage.outbound import SqlIdempotencyRepository, SqlOutboundJobRepository
from postroom.storage.repositories import (
    KEYS_CHANGED,
    SqlApiKeyRepository,
    SqlInboxRepository,
    SqlOrganizationRepository,
    SqlPodRepository,
    SqlSecretRepository,
)
from postroom.storage.retention import SqlRetentionRepository


class SqlUnitOfWork:
    def __init__(
        self,
        engine: Engine,
        write: bool,
        writer_lock: threading.Lock | None,
        durable: bool = True,
        search_timeout_seconds: float = DEFAULT_SEARCH_TIMEOUT_SECONDS,
        on_keys_changed: Callable[[], None] = lambda: None,
        snapshot: bool = True,
    ) -> None:
        self._engine = engine
        self._on_keys_changed = on_keys_changed
        self._search_timeout = search_timeout_seconds
        self._durable = durable
        self._write = write
        # Only SQLite's begin hook reads (and takes) the flag; PostgreSQL's driver begins on the first statement.
        self._no_snapshot = not snapshot and not write and engine.dialect.name == "sqlite"
        self._writer_lock = writer_lock if write else None

    def __enter__(self) -> SqlUnitOfWork:
        if self._writer_lock is not None:
            self._writer_lock.acquire()
        try:
            self._connection = self._engine.connect()
        except BaseException:
            self._release()
            raise
        try:
            self._connection.info[WRITE_FLAG] = self._write
            if self._no_snapshot:
                self._connection.info[NO_SNAPSHOT_FLAG] = True  # taken by the SQLite engine's begin hook
            self._transaction = self._connection.begin()
            if not self._durable and self._engine.dialect.name == "postgresql":
                # Losing this commit in a crash only repeats work; not waiting for the WAL flush saves milliseconds.
                self._connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
        except BaseException:  # e.g. "database is locked" after the busy timeout: __exit__ will not run
            self._connection.close()
            self._release()
            raise
        self.organizations = SqlOrganizationRepository(self._connection)
        self.pods = SqlPodRepository(self._connection)
        self.inboxes = SqlInboxRepository(self._connection)
        self.api_keys = SqlApiKeyRepository(self._connection)
        self.secrets = SqlSecretRepository(self._connection)
        self.custom_domains = SqlCustomDomainRepository(self._connection)
        self.mail = SqlMailRepository(self._connection, self._search_timeout)
        self.outbox = SqlOutboxRepository(self._connection)
        self.outbound_jobs = SqlOutboundJobRepository(self._connection)
        self.idempotency = SqlIdempotencyRepository(self._connection)
        self.list_entries = SqlListEntryRepository(self._connection)
        self.drafts = SqlDraftRepository(self._connection)
        self.webhooks = SqlWebhookRepository(self._connection)
        self.webhook_deliveries = SqlWebhookDeliveryRepository(self._connection)
        self.inbox_events = SqlInboxEventRepository(self._connection)
        self.retention = SqlRetentionRepository(self._connection)
        self.metrics = SqlMetricsRepository(self._connection)
        return self

    def commit(self) -> None:
        flush_rollups(self._connection)
        self._connection.commit()
        if self._connection.info.pop(KEYS_CHANGED, False):
            self._on_keys_changed()

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        deferred = pending_rollups(self._connection)
        nested = self._connection.begin_nested()
        try:
            yield
        except BaseException:
            nested.rollback()
            restore_rollups(self._connection, deferred)  # the undone writes' counters go with them
            raise
        nested.commit()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if self._connection.in_transaction():
                self._connection.rollback()
        finally:
            self._connection.info.pop(KEYS_CHANGED, None)  # rolled back: nothing changed
            discard_rollups(self._connection)
            self._connection.close()
            self._release()

    def _release(self) -> None:
        if self._writer_lock is not None:
            self._writer_lock.release()


class SqlUnitOfWorkFactory:
    def __init__(self, engine: Engine, search_timeout_seconds: float = DEFAULT_SEARCH_TIMEOUT_SECONDS) -> None:
        self.engine = engine
        self._search_timeout = search_timeout_seconds
        self._key_changes = 0
        self._key_changes_lock = threading.Lock()
        # SQLite has one writer at a time; queueing this process's writers on a lock is fairer and cheaper than
        # letting them poll the busy handler (which starves some for seconds under load).
        self._writer_lock = threading.Lock() if engine.dialect.name == "sqlite" else None

    def __call__(self, *, write: bool = False, durable: bool = True, snapshot: bool = True) -> SqlUnitOfWork:
        return SqlUnitOfWork(
            self.engine, write, self._writer_lock, durable, self._search_timeout, self._count_key_change, snapshot
        )

    def key_changes(self) -> int:
        return self._key_changes

    def _count_key_change(self) -> None:
        with self._key_changes_lock:
            self._key_changes += 1

    def database_ready(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception:
            return False
        return True
