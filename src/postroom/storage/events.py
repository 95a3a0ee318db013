"""Event storage: the outbox and its dispatch lease, webhooks, their delivery queue, and the inbox event log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, and_, func, insert, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import RowMapping

from postroom.domain.events import InboxEvent, OutboxEvent
from postroom.domain.listing import KeyScope
from postroom.domain.metrics import MetricOwner, event_increments
from postroom.domain.pagination import PageRequest
from postroom.domain.text import storable
from postroom.domain.webhooks import DeliveryStatus, Webhook, WebhookDelivery
from postroom.storage.keyset import seek
from postroom.storage.metrics import defer_rollups
from postroom.storage.repositories import write_checked
from postroom.storage.tables import inbox_events, outbox, webhook_deliveries, webhooks

NOTIFY_CHANNEL = "postroom_outbox"
_OUTBOX_FIELDS = (
    "event_id",
    "event_type",
    "organization_id",
    "pod_id",
    "inbox_id",
    "message_row_id",
    "created_at",
    "data",
)
_WEBHOOK_COLUMNS = [column.name for column in webhooks.c]
_DELIVERY_COLUMNS = [column.name for column in webhook_deliveries.c]

_INSERT_OUTBOX = insert(outbox)  # constant: compiled once for every event
_INSERT_INBOX_EVENTS = insert(inbox_events)


def _event(row: RowMapping) -> OutboxEvent:
    return OutboxEvent(**{name: row[name] for name in _OUTBOX_FIELDS})


class SqlOutboxRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection
        self._added: list[str] = []

    def add(self, event: OutboxEvent) -> None:
        self._c.execute(_INSERT_OUTBOX, {**vars(event), "data": dict(event.data)})
        # The Metrics API's event counts change in the transaction that records the event, never apart from it.
        owner = MetricOwner(event.organization_id, event.pod_id, event.inbox_id)
        defer_rollups(self._c, owner, event_increments(event.event_type, event.data), event.created_at)
        if self._c.dialect.name == "postgresql":
            # Delivered at commit and only then, to every process listening: new rows wake them all.
            self._c.execute(text("SELECT pg_notify(:channel, :event_id)"), {"channel": NOTIFY_CHANNEL, **vars(event)})
        self._added.append(event.event_id)

    def added_ids(self) -> list[str]:
        return list(self._added)

    def has_claimable(self, now: datetime) -> bool:
        query = select(outbox.c.event_id).where(
            outbox.c.dispatched_at.is_(None), or_(outbox.c.lease_until.is_(None), outbox.c.lease_until < now)
        )
        return self._c.execute(query.limit(1)).first() is not None

    def claim(self, now: datetime, lease_until: datetime, limit: int) -> list[OutboxEvent]:
        """Undispatched events whose lease (if any) ran out, oldest first, now leased to the caller."""
        query = (
            select(outbox)
            .where(outbox.c.dispatched_at.is_(None), or_(outbox.c.lease_until.is_(None), outbox.c.lease_until < now))
            .order_by(outbox.c.created_at, outbox.c.event_id)
            .limit(limit)
        )
        if self._c.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        found = [_event(row) for row in self._c.execute(query).mappings()]
        if found:
            ids = [event.event_id for event in found]
            self._c.execute(update(outbox).where(outbox.c.event_id.in_(ids)).values(lease_until=lease_until))
        return found

    def mark_dispatched(self, event_id: str, payload: str | None, now: datetime) -> None:
        values = {"dispatched_at": now, "lease_until": None, "payload": payload}
        self._c.execute(update(outbox).where(outbox.c.event_id == event_id).values(**values))

    def get_many(self, event_ids: list[str]) -> list[tuple[OutboxEvent, str | None]]:
        query = select(outbox).where(outbox.c.event_id.in_(event_ids)).order_by(outbox.c.created_at, outbox.c.event_id)
        return [(_event(row), row["payload"]) for row in self._c.execute(query).mappings()]

    def payload(self, event_id: str) -> str | None:
        return self._c.execute(select(outbox.c.payload).where(outbox.c.event_id == event_id)).scalar()


class SqlWebhookRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    @staticmethod
    def _entity(row: RowMapping) -> Webhook:
        return Webhook(**{name: row[name] for name in _WEBHOOK_COLUMNS})

    def get(self, webhook_id: str) -> Webhook | None:
        if not storable(webhook_id):
            return None
        row = self._c.execute(select(webhooks).where(webhooks.c.webhook_id == webhook_id)).mappings().first()
        return self._entity(row) if row else None

    def get_by_client_id(self, organization_id: str, client_id: str) -> Webhook | None:
        query = select(webhooks).where(webhooks.c.organization_id == organization_id, webhooks.c.client_id == client_id)
        row = self._c.execute(query).mappings().first()
        return self._entity(row) if row else None

    def add(self, webhook: Webhook) -> None:
        write_checked(self._c, insert(webhooks), vars(webhook))

    def update(self, webhook: Webhook) -> None:
        values = {name: getattr(webhook, name) for name in _WEBHOOK_COLUMNS if name != "webhook_id"}
        self._c.execute(update(webhooks).where(webhooks.c.webhook_id == webhook.webhook_id).values(**values))

    def delete(self, webhook_id: str) -> None:
        self._c.execute(webhooks.delete().where(webhooks.c.webhook_id == webhook_id))

    def list_page(self, scope: KeyScope, page: PageRequest) -> list[Webhook]:
        query = select(webhooks).where(webhooks.c.organization_id == scope.organization_id)
        if scope.inbox_id is not None:
            query = query.where(webhooks.c.inbox_id == scope.inbox_id)
        elif scope.pod_id is not None:
            query = query.where(webhooks.c.pod_id == scope.pod_id)
            if scope.exact_pod_scope:
                query = query.where(webhooks.c.inbox_id.is_(None))
        query = seek(query, page, webhooks.c.created_at, webhooks.c.webhook_id)
        return [self._entity(row) for row in self._c.execute(query).mappings()]

    def enabled_in(self, organization_id: str) -> list[Webhook]:
        query = select(webhooks).where(webhooks.c.organization_id == organization_id, webhooks.c.enabled.is_(True))
        return [self._entity(row) for row in self._c.execute(query).mappings()]


class SqlWebhookDeliveryRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    @staticmethod
    def _entity(row: RowMapping) -> WebhookDelivery:
        values = {name: row[name] for name in _DELIVERY_COLUMNS}
        values["status"] = DeliveryStatus(values["status"])
        return WebhookDelivery(**values)

    def add(self, delivery: WebhookDelivery) -> None:
        """Queue a delivery; the same event for the same webhook twice is a no-op (a re-dispatch after a crash)."""
        values = {name: getattr(delivery, name) for name in _DELIVERY_COLUMNS}
        values["status"] = delivery.status.value
        dialect = postgresql if self._c.dialect.name == "postgresql" else sqlite
        self._c.execute(dialect.insert(webhook_deliveries).values(values).on_conflict_do_nothing())

    def heads(self, limit: int) -> list[WebhookDelivery]:
        """The oldest pending delivery of each webhook (deliveries to one webhook go out in event order)."""
        pending = webhook_deliveries.c.status == DeliveryStatus.PENDING.value
        position = (
            func.row_number()
            .over(
                partition_by=webhook_deliveries.c.webhook_id,
                order_by=(webhook_deliveries.c.event_created_at, webhook_deliveries.c.event_id),
            )
            .label("position")
        )
        ranked = select(webhook_deliveries, position).where(pending).subquery()
        query = select(ranked).where(ranked.c.position == 1).order_by(ranked.c.next_attempt_at).limit(limit)
        return [self._entity(row) for row in self._c.execute(query).mappings()]

    def claim(self, delivery_id: str, now: datetime, lease_until: datetime) -> bool:
        """Lease the delivery if nobody holds it: a compare-and-set, so one process wins on every database."""
        statement = (
            update(webhook_deliveries)
            .where(
                webhook_deliveries.c.delivery_id == delivery_id,
                webhook_deliveries.c.status == DeliveryStatus.PENDING.value,
                or_(webhook_deliveries.c.lease_until.is_(None), webhook_deliveries.c.lease_until < now),
            )
            .values(lease_until=lease_until)
        )
        return self._c.execute(statement).rowcount == 1

    def next_pending(self, webhook_id: str) -> WebhookDelivery | None:
        query = (
            select(webhook_deliveries)
            .where(
                webhook_deliveries.c.webhook_id == webhook_id,
                webhook_deliveries.c.status == DeliveryStatus.PENDING.value,
            )
            .order_by(webhook_deliveries.c.event_created_at, webhook_deliveries.c.event_id)
            .limit(1)
        )
        row = self._c.execute(query).mappings().first()
        return self._entity(row) if row else None

    def get(self, delivery_id: str) -> WebhookDelivery | None:
        query = select(webhook_deliveries).where(webhook_deliveries.c.delivery_id == delivery_id)
        row = self._c.execute(query).mappings().first()
        return self._entity(row) if row else None

    def save(self, delivery: WebhookDelivery) -> None:
        values = {name: getattr(delivery, name) for name in _DELIVERY_COLUMNS if name != "delivery_id"}
        values["status"] = delivery.status.value
        condition = webhook_deliveries.c.delivery_id == delivery.delivery_id
        self._c.execute(update(webhook_deliveries).where(condition).values(**values))

    def release(self, delivery_ids: list[str]) -> None:
        condition = and_(
            webhook_deliveries.c.delivery_id.in_(delivery_ids),
            webhook_deliveries.c.status == DeliveryStatus.PENDING.value,
        )
        self._c.execute(update(webhook_deliveries).where(condition).values(lease_until=None))

    def abandon_pending(self, webhook_id: str, reason: str, now: datetime) -> None:
        condition = and_(
            webhook_deliveries.c.webhook_id == webhook_id,
            webhook_deliveries.c.status == DeliveryStatus.PENDING.value,
        )
        values = {"status": DeliveryStatus.DEAD.value, "last_error": reason, "lease_until": None, "updated_at": now}
        self._c.execute(update(webhook_deliveries).where(condition).values(**values))

    def for_webhook(self, webhook_id: str) -> list[WebhookDelivery]:
        query = (
            select(webhook_deliveries)
            .where(webhook_deliveries.c.webhook_id == webhook_id)
            .order_by(webhook_deliveries.c.event_created_at, webhook_deliveries.c.event_id)
        )
        return [self._entity(row) for row in self._c.execute(query).mappings()]


class SqlInboxEventRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def add_many(self, events: list[InboxEvent]) -> None:
        if events:
            self._c.execute(_INSERT_INBOX_EVENTS, [vars(event) for event in events])

    def list_page(self, inbox_id: str, page: PageRequest) -> list[InboxEvent]:
        query = select(inbox_events).where(inbox_events.c.inbox_id == inbox_id)
        query = seek(query, page, inbox_events.c.created_at, inbox_events.c.event_id)
        return [InboxEvent(**dict(row)) for row in self._c.execute(query).mappings()]
