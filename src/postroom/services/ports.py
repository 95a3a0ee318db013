"""The ports services depend on: repositories and the unit of work that groups them in one transaction."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from datetime import datetime
from types import TracebackType
from typing import BinaryIO, Protocol

from postroom.domain.access import ApiKey, Organization, Pod
from postroom.domain.custom_domains import CustomDomain, DkimPrivateKey, DomainScope
from postroom.domain.draft import Draft
from postroom.domain.events import InboxEvent, OutboxEvent
from postroom.domain.inbox import Inbox
from postroom.domain.listing import InboxScope, KeyScope, MailFilter, SearchHit
from postroom.domain.lists import Direction, ListEntry, ListType
from postroom.domain.message import Message, Thread
from postroom.domain.metrics import Backlog, MetricOwner
from postroom.domain.outbound import IdempotencyRecord, OutboundJob, RecipientState
from postroom.domain.pagination import PageRequest
from postroom.domain.search import MailSearch, MessageHit, ThreadHit
from postroom.domain.spam import SpamEnvelope, SpamVerdict
from postroom.domain.subscriptions import Subscription
from postroom.domain.webhooks import Webhook, WebhookDelivery


class OrganizationRepository(Protocol):
    def first(self) -> Organization | None: ...
    def get(self, organization_id: str) -> Organization | None: ...
    def add(self, organization: Organization) -> None: ...


class PodRepository(Protocol):
    def get(self, organization_id: str, pod_id: str) -> Pod | None: ...
    def get_by_client_id(self, organization_id: str, client_id: str) -> Pod | None: ...
    def default_pod(self, organization_id: str) -> Pod: ...
    def add(self, pod: Pod) -> None: ...
    def delete(self, pod_id: str) -> None: ...
    def has_inboxes(self, pod_id: str) -> bool: ...
    def list_page(self, organization_id: str, only_pod_id: str | None, page: PageRequest) -> list[Pod]: ...


class InboxRepository(Protocol):
    def get(self, inbox_id: str) -> Inbox | None: ...
    def get_by_client_id(self, organization_id: str, client_id: str) -> Inbox | None: ...
    def add(self, inbox: Inbox) -> None: ...
    def update(self, inbox: Inbox) -> None: ...
    def delete(self, inbox_id: str) -> None: ...
    def blob_owners(self, inbox_id: str) -> list[str]:
        """The ids of the inbox's messages and drafts (each owns the blobs under its prefix); locks the inbox row."""

    def list_page(self, scope: InboxScope, page: PageRequest) -> list[Inbox]: ...
    def count(self, scope: InboxScope) -> int: ...
    def search_page(self, scope: InboxScope, terms: list[str], page: PageRequest) -> list[SearchHit]: ...


class ApiKeyRepository(Protocol):
    def get(self, api_key_id: str) -> ApiKey | None: ...
    def get_by_hash(self, secret_hash: str) -> ApiKey | None: ...
    def add(self, key: ApiKey) -> None: ...
    def update(self, key: ApiKey) -> None: ...
    def touch(self, api_key_id: str, used_at: datetime) -> None: ...
    def delete(self, api_key_id: str) -> None: ...
    def list_page(self, scope: KeyScope, page: PageRequest) -> list[ApiKey]: ...


class MailRepository(Protocol):
    """Messages, threads and their thread keys within inboxes."""

    def message_exists(self, inbox_id: str, message_id: str) -> bool: ...
    def lock_thread_keys(self, inbox_id: str, keys: list[str]) -> None:
        """Until the transaction ends, no other transaction files a message with any of these keys in the inbox."""

    def thread_for_keys(self, inbox_id: str, keys: list[str]) -> str | None: ...
    def add_thread_keys(self, inbox_id: str, keys: list[str], thread_id: str) -> None: ...
    def lock_thread(self, thread_id: str) -> Thread | None:
        """The thread, locked against concurrent updates until the transaction ends."""

    def add_thread(self, thread: Thread) -> None: ...
    def update_thread(self, thread: Thread) -> None: ...
    def add_message(self, message: Message, search_document: str) -> None:
        """Store the message, its labels and attachments, and index it under ``search_document``."""

    def get_message(self, inbox_id: str, message_id: str, *, lock: bool = False) -> Message | None:
        """The message; ``lock`` holds its row against concurrent changes until the transaction ends."""

    def get_message_row(self, row_id: str, *, lock: bool = False) -> Message | None: ...
    def thread_messages(self, thread_id: str) -> list[Message]: ...
    def list_messages(self, inbox_id: str, mail_filter: MailFilter, page: PageRequest) -> list[Message]: ...
    def list_threads(self, scope: InboxScope, mail_filter: MailFilter, page: PageRequest) -> list[Thread]: ...
    def search_messages(self, inbox_id: str, search: MailSearch, page: PageRequest) -> list[MessageHit]:
        """Matching messages of the inbox, best rank first, then newest; keyset position (rank, timestamp, row_id)."""

    def search_threads(self, scope: InboxScope, search: MailSearch, page: PageRequest) -> list[ThreadHit]:
        """Threads holding a matching visible message, ranked by their best one; position (rank, timestamp, id)."""

    def get_thread(self, thread_id: str) -> Thread | None:
        """The thread with the attachments of all its messages."""

    def thread_messages_page(self, thread_id: str, mail_filter: MailFilter, page: PageRequest) -> list[Message]: ...
    def set_labels(self, message: Message) -> None:
        """Store the message's labels (and its ``updated_at``)."""

    def delete_message(self, row_id: str) -> None: ...
    def delete_thread(self, thread_id: str) -> None: ...
    def refresh_thread(self, thread_id: str) -> None:
        """Recompute the thread's summary from its messages; delete it when none are left."""


class DraftRepository(Protocol):
    """Drafts with their labels and attachments; scheduled ones are claimed for sending with a lease."""

    def get(self, draft_id: str, *, lock: bool = False) -> Draft | None: ...
    def get_by_client_id(self, inbox_id: str, client_id: str) -> Draft | None: ...
    def add(self, draft: Draft) -> None: ...
    def update(self, draft: Draft) -> None: ...
    def delete(self, draft_id: str) -> None: ...
    def list_page(self, scope: InboxScope, mail_filter: MailFilter, page: PageRequest) -> list[Draft]:
        """Drafts in scope with all of ``mail_filter.labels``, updated_at in its window; keyset on updated_at."""

    def claim_due(self, now: datetime, stranded_before: datetime, limit: int) -> list[Draft]: ...


class OutboxRepository(Protocol):
    def add(self, event: OutboxEvent) -> None:
        """Queue the event; on PostgreSQL its commit also notifies every process listening (NOTIFY)."""

    def added_ids(self) -> list[str]:
        """The ids of the events added in this unit of work (for the wake-up after its commit)."""

    def has_claimable(self, now: datetime) -> bool:
        """Whether any undispatched event is free to claim (a cheap read before taking the write lock)."""

    def claim(self, now: datetime, lease_until: datetime, limit: int) -> list[OutboxEvent]:
        """Undispatched events not leased by anyone else, oldest first, leased to the caller until ``lease_until``."""

    def mark_dispatched(self, event_id: str, payload: str | None, now: datetime) -> None: ...
    def get_many(self, event_ids: list[str]) -> list[tuple[OutboxEvent, str | None]]:
        """The events with their rendered payload (None until dispatched), oldest first."""

    def payload(self, event_id: str) -> str | None: ...


class WebhookRepository(Protocol):
    def get(self, webhook_id: str) -> Webhook | None: ...
    def get_by_client_id(self, organization_id: str, client_id: str) -> Webhook | None: ...
    def add(self, webhook: Webhook) -> None: ...
    def update(self, webhook: Webhook) -> None: ...
    def delete(self, webhook_id: str) -> None: ...
    def list_page(self, scope: KeyScope, page: PageRequest) -> list[Webhook]: ...
    def enabled_in(self, organization_id: str) -> list[Webhook]: ...


class WebhookDeliveryRepository(Protocol):
    def add(self, delivery: WebhookDelivery) -> None:
        """Queue a delivery; the same (webhook, event) twice is a no-op."""

    def heads(self, limit: int) -> list[WebhookDelivery]:
        """The oldest pending delivery of each webhook, soonest due first."""

    def claim(self, delivery_id: str, now: datetime, lease_until: datetime) -> bool:
        """Lease a pending delivery nobody holds; False when another worker has it."""

    def next_pending(self, webhook_id: str) -> WebhookDelivery | None:
        """The webhook's oldest pending delivery."""

    def get(self, delivery_id: str) -> WebhookDelivery | None: ...
    def save(self, delivery: WebhookDelivery) -> None: ...
    def release(self, delivery_ids: list[str]) -> None:
        """Give up the leases of these pending deliveries, so any worker may attempt them at once."""

    def abandon_pending(self, webhook_id: str, reason: str, now: datetime) -> None:
        """Dead-letter every pending delivery of the webhook (it was disabled)."""

    def for_webhook(self, webhook_id: str) -> list[WebhookDelivery]: ...


class InboxEventRepository(Protocol):
    def add_many(self, events: list[InboxEvent]) -> None: ...
    def list_page(self, inbox_id: str, page: PageRequest) -> list[InboxEvent]: ...


class MetricsRepository(Protocol):
    """Counters per scope, metric and grid cell (``postroom.domain.metrics``); times are epoch seconds."""

    def add(self, owner: MetricOwner, increments: Mapping[str, int], at: datetime) -> None:
        """Add to the owner's counters (organization, pod, inbox) in the cells holding ``at``."""

    def forget(self, scope_key: str) -> None:
        """Drop every counter of one scope (a deleted inbox's)."""

    def bucket_sums(
        self, scope_key: str, metrics: list[str], grain: int, start: int, end: int, period: int | None
    ) -> dict[tuple[str, int], int]:
        """Per (metric, bucket start): the sum of the cells of ``grain`` in [start, end), bucketed by ``period``."""

    def totals_before(self, scope_key: str, metrics: list[str], grain: int, before: int) -> dict[str, int]: ...
    def backlog(self, now: datetime) -> Backlog:
        """What waits in the delivery queue, the webhook queue and the outbox (for monitoring)."""


class OutboundJobRepository(Protocol):
    """Delivery jobs (claimed with an expiring lease) and what happened to each recipient of a sent message."""

    def add_job(self, job: OutboundJob) -> None: ...
    def add_recipients(self, row_id: str, addresses: list[str], now: datetime) -> None: ...
    def claim_due(self, now: datetime, lease: str, lease_until: datetime, limit: int) -> list[OutboundJob]: ...
    def get_job(self, job_id: str, lease: str) -> OutboundJob | None: ...
    def release(self, job_id: str, lease: str, now: datetime) -> None: ...
    def reschedule(self, job: OutboundJob) -> None: ...
    def finish(self, job_id: str) -> None: ...
    def set_recipient(
        self,
        row_id: str,
        address: str,
        state: RecipientState,
        code: int | None,
        status: str,
        detail: str,
        now: datetime,
    ) -> None: ...
    def recipient_states(self, row_id: str) -> dict[str, str]: ...
    def pending_jobs(self, row_id: str) -> int: ...


class IdempotencyRepository(Protocol):
    def get(self, organization_id: str, key: str) -> IdempotencyRecord | None: ...
    def put(self, record: IdempotencyRecord) -> None: ...
    def forget_before(self, organization_id: str, key: str, cutoff: datetime) -> None: ...


class RetentionRepository(Protocol):
    """Finished rows past their keeping time, deleted in bounded batches: each call touches at most ``limit`` rows.

    On PostgreSQL the rows of a batch are locked with SKIP LOCKED, so several workers sweep side by side.
    """

    def delete_dispatched_events(self, before: datetime, limit: int) -> int: ...
    def delete_webhook_deliveries(self, status: str, before: datetime, limit: int) -> int: ...
    def delete_finished_recipients(self, before: datetime, limit: int) -> int: ...
    def delete_idempotency_records(self, before: datetime, limit: int) -> int: ...
    def lock_trashed_messages(self, label: str, before: datetime, limit: int) -> list[str]: ...
    def delete_minute_rollups(self, before: datetime, limit: int) -> int:
        """Metric rollups at minute grain whose minute starts before ``before``; hour rows are never touched."""


class ListEntryRepository(Protocol):
    """Allow/block list entries; ``scope_id`` is the inbox id, pod id or organization id they belong to."""

    def get(self, scope_id: str, direction: Direction, list_type: ListType, entry: str) -> ListEntry | None: ...
    def add(self, entry: ListEntry) -> None:
        """Raises Conflict when the list holds the entry already."""

    def add_if_absent(self, entry: ListEntry) -> None: ...
    def delete(self, scope_id: str, direction: Direction, list_type: ListType, entry: str) -> None: ...
    def list_page(self, scope_id: str, direction: Direction, list_type: ListType, page: PageRequest) -> list[ListEntry]:
        """Entries by ``entry`` ascending; the page position is the last entry seen."""

    def matching(self, scope_ids: list[str], direction: Direction, keys: list[str]) -> list[ListEntry]:
        """Entries of both list types, in any of the scopes, whose entry is one of ``keys``."""

    def allow_scopes(self, scope_ids: list[str], direction: Direction) -> set[str]: ...


class CustomDomainRepository(Protocol):
    """Custom domains by normalised name; due verification checks are claimed with an expiring lease."""

    def get(self, domain_id: str, *, lock: bool = False) -> CustomDomain | None:
        """The domain; ``lock`` holds its row against concurrent changes until the transaction ends."""

    def get_by_client_id(self, organization_id: str, client_id: str) -> CustomDomain | None: ...
    def get_many(self, domain_ids: list[str]) -> list[CustomDomain]: ...
    def overlapping(self, name: str) -> list[CustomDomain]:
        """Every domain equal to ``name``, above it (``example.com`` for ``eu.example.com``) or below it."""

    def add(self, domain: CustomDomain) -> None: ...
    def update(self, domain: CustomDomain) -> None: ...
    def delete(self, domain_id: str) -> None: ...
    def list_page(self, scope: DomainScope, page: PageRequest) -> list[CustomDomain]: ...
    def count(self, scope: DomainScope) -> int: ...
    def in_pod(self, pod_id: str) -> bool: ...
    def every(self) -> list[CustomDomain]:
        """Every custom domain of every organization, by name (for ``postroom doctor``)."""

    def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[CustomDomain]:
        """Domains whose next check is due and that no checker holds, soonest first, leased until ``lease_until``."""


class SecretRepository(Protocol):
    def get(self, name: str) -> bytes | None: ...
    def add(self, name: str, value: bytes) -> None: ...


class UnitOfWork(Protocol):
    """One transaction; repositories raise ``postroom.errors.Conflict`` when a write breaks a uniqueness rule."""

    @property
    def organizations(self) -> OrganizationRepository: ...
    @property
    def pods(self) -> PodRepository: ...
    @property
    def inboxes(self) -> InboxRepository: ...
    @property
    def api_keys(self) -> ApiKeyRepository: ...
    @property
    def secrets(self) -> SecretRepository: ...
    @property
    def custom_domains(self) -> CustomDomainRepository: ...
    @property
    def mail(self) -> MailRepository: ...
    @property
    def outbox(self) -> OutboxRepository: ...
    @property
    def outbound_jobs(self) -> OutboundJobRepository: ...
    @property
    def idempotency(self) -> IdempotencyRepository: ...
    @property
    def list_entries(self) -> ListEntryRepository: ...
    @property
    def drafts(self) -> DraftRepository: ...
    @property
    def webhooks(self) -> WebhookRepository: ...
    @property
    def webhook_deliveries(self) -> WebhookDeliveryRepository: ...
    @property
    def inbox_events(self) -> InboxEventRepository: ...
    @property
    def retention(self) -> RetentionRepository: ...
    @property
    def metrics(self) -> MetricsRepository: ...

    def __enter__(self) -> UnitOfWork: ...
    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...
    def commit(self) -> None: ...
    def savepoint(self) -> AbstractContextManager[None]:
        """A nested transaction: an exception inside undoes only what was written inside, then propagates."""
        ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, *, write: bool = False, durable: bool = True, snapshot: bool = True) -> UnitOfWork:
        """A new unit of work; ``write=True`` takes the write lock up front where the database needs it.

        ``snapshot=False`` (reads only) says the reads need not see one snapshot together, as a point read by id
        does not: SQLite then opens no transaction around them, each statement reading its own snapshot.

        ``durable=False`` lets the commit return before it is flushed to disk where the database allows it: for
        bookkeeping whose loss in a crash only means repeating work (a lease, a delivery already made).
        """

    def key_changes(self) -> int:
        """How many commits in this process changed or removed API keys (directly, or through their inbox or pod).

        Caches of keys compare it to drop what such a commit may have revoked.
        """


class Clock(Protocol):
    """Where services and workers read the time, so tests can move it instead of sleeping."""

    def now(self) -> datetime:
        """The current time in UTC (timezone-aware)."""


class Wakeups(Protocol):
    """How a service tells the workers, after its commit, that it left work for them (never called before it)."""

    def outbox_committed(self, event_ids: list[str]) -> None:
        """Outbox rows were committed: the events dispatcher should look now rather than at its next poll."""

    def jobs_queued(self) -> None:
        """Outbound delivery jobs were committed: the delivery worker should claim them now."""


class RateLimits(Protocol):
    """Request budgets, per process or shared by every process (memory, PostgreSQL or Redis).

    A key may spend ``limit`` hits at once and earns them back evenly over ``window_seconds`` (a token bucket of
    ``limit`` tokens refilled at ``limit / window_seconds`` per second, kept as one number per key).
    """

    def hit(self, key: str, limit: int, window_seconds: float) -> float:
        """Spend one hit of ``key``: 0.0 when allowed, else the seconds until one is (nothing is spent then)."""

    def peek(self, key: str, limit: int, window_seconds: float) -> float:
        """What ``hit`` would answer, spending nothing."""


class HealthProbe(Protocol):
    def database_ready(self) -> bool: ...
    def blobs_ready(self) -> bool: ...
    def spam_filter(self) -> dict[str, object]:
        """What classifies spam (or that nothing does) and how often it failed, for /readyz."""


class DnsLookup(Protocol):
    """DNS for services (``postroom.dns.resolver.DnsResolver``, honouring POSTROOM_DNS_SERVERS)."""

    def lookup(self, name: str, rdtype: str) -> list[str]:
        """Records of ``rdtype`` at ``name`` as text (TXT strings joined); [] when there are none.

        Raises ``postroom.errors.TemporaryLookupError`` when DNS does not answer (timeout, SERVFAIL).
        """


class SpamClassifier(Protocol):
    """A spam engine (rspamd) that scores a message; None when it could not (it never holds mail back)."""

    @property
    def failures(self) -> int:
        """Messages the engine failed to classify since the start (they were stored unclassified)."""

    @property
    def description(self) -> str:
        """What classifies mail, for /readyz (e.g. "rspamd at http://127.0.0.1:11333", or why nothing does)."""

    def classify(self, raw: bytes, envelope: SpamEnvelope) -> SpamVerdict | None: ...


class HostResolver(Protocol):
    def addresses(self, host: str) -> list[str]:
        """Every IP address ``host`` resolves to (empty when it does not resolve)."""


class EventChannel(Protocol):
    """One websocket client's view of the event stream: a bounded queue of frames in its subscription."""

    def subscribe(self, subscription: Subscription) -> None: ...
    async def next_frame(self) -> str | None:
        """The next event frame (JSON text), or None once the channel was dropped (see ``drop_reason``)."""

    @property
    def drop_reason(self) -> str | None: ...
    def close(self) -> None: ...


class EventStream(Protocol):
    def open(self) -> EventChannel: ...


class BlobStore(Protocol):
    """Raw messages and attachments by "/"-separated key (``inbox/<id>/<message>/raw.eml``).

    Keys are made by our code: an invalid one (empty, over 1024 bytes, a leading "/", an empty, "." or ".."
    segment, a segment starting with ".", a control character) raises ``ValueError``.
    """

    def put(self, key: str, chunks: Iterable[bytes]) -> int:
        """Write every chunk durably and return the size; atomic: readers never see a partial blob."""

    def open(self, key: str) -> BinaryIO:
        """A streaming reader of the blob; raises ``KeyError`` when there is none."""

    def size(self, key: str) -> int | None:
        """The blob's size in bytes, or None when there is none."""

    def delete(self, key: str) -> None:
        """Delete the blob; a missing one is fine."""

    def delete_prefix(self, prefix: str) -> int:
        """Delete every blob under the "folder" ``prefix`` (``inbox/a`` spares ``inbox/ab/...``); returns the count."""

    def presigned_url(self, key: str, expires_in: int, filename: str | None, content_type: str | None) -> str | None:
        """A URL the object store itself serves the blob from, or None when Postroom must serve the bytes itself."""

    def ready(self) -> bool:
        """Whether the store is reachable and writable (for ``/readyz``)."""


class AttachmentFetcher(Protocol):
    def fetch(self, url: str, max_bytes: int) -> tuple[bytes, str | None, str | None]:
        """(content, content type, filename) of a public http(s) URL; raises ``Forbidden`` when it cannot be fetched."""


class MessageSigner(Protocol):
    def sign(self, raw: bytes, domain: str, key: DkimPrivateKey | None = None) -> bytes:
        """``raw`` with a DKIM-Signature of ``domain`` added: made with ``key`` (a custom domain's own), or else with
        the server's key of that domain (``raw`` unchanged when it has none)."""


class DkimKeys(Protocol):
    def new_key(self) -> tuple[bytes, str]:
        """A new RSA-2048 signing key: (private PEM, the TXT value that publishes its public half)."""
