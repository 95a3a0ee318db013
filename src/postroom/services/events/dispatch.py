"""Dispatching committed events: lease outbox rows, queue one delivery per matching webhook, record attempts.

The events worker drives these use cases; every state change is a short transaction, so a crash at any point
leaves either an unleased row (picked up again) or a lease that runs out (the attempt is made again).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from postroom.domain.custom_domains import DomainView
from postroom.domain.events import OutboxEvent
from postroom.domain.ids import new_id
from postroom.domain.message import Message, Thread
from postroom.domain.subscriptions import Subscription
from postroom.domain.webhooks import DeliveryStatus, Webhook, WebhookDelivery, retry_delay, should_disable
from postroom.services.domains.catalogue import DomainCatalogue
from postroom.services.ports import Clock, UnitOfWork, UnitOfWorkFactory

MAX_ERROR_CHARS = 500


@dataclass(frozen=True)
class DispatchPolicy:
    lease: timedelta
    retry_schedule: tuple[float, ...]
    disable_after: timedelta


@dataclass(frozen=True)
class Attempt:
    delivery: WebhookDelivery
    webhook: Webhook
    payload: str


def webhook_subscription(webhook: Webhook) -> Subscription:
    return Subscription(
        organization_id=webhook.organization_id,
        pod_id=webhook.pod_id,
        inbox_id=webhook.inbox_id,
        event_types=tuple(webhook.event_types),
        pod_ids=tuple(webhook.pod_ids),
        inbox_ids=tuple(webhook.inbox_ids),
    )


def wants(webhook: Webhook, event: OutboxEvent) -> bool:
    """Events are queued only for webhooks enabled since before the event happened and subscribed to it."""
    return event.created_at >= webhook.enabled_at and webhook_subscription(webhook).wants(event)


def _new_delivery(webhook: Webhook, event: OutboxEvent, now: datetime) -> WebhookDelivery:
    return WebhookDelivery(
        delivery_id=new_id("dlv"),
        webhook_id=webhook.webhook_id,
        event_id=event.event_id,
        event_created_at=event.created_at,
        status=DeliveryStatus.PENDING,
        attempts=0,
        next_attempt_at=now,
        lease_until=None,
        last_error=None,
        updated_at=now,
    )


class DispatchService:
    """Every write here may be lost in a crash without losing an event (it is repeated), so none waits for a
    disk flush: the outbox row itself was committed durably by the service that made it."""

    def __init__(
        self, uow_factory: UnitOfWorkFactory, policy: DispatchPolicy, clock: Clock, catalogue: DomainCatalogue
    ) -> None:
        self._clock = clock
        self._catalogue = catalogue
        self._uow = uow_factory
        self.policy = policy

    def claim_events(self, limit: int) -> list[OutboxEvent]:
        now = self._clock.now()
        with self._uow() as uow:
            if not uow.outbox.has_claimable(now):
                return []
        with self._uow(write=True, durable=False) as uow:
            found = uow.outbox.claim(now, now + self.policy.lease, limit)
            uow.commit()
        return found

    def message_of(self, event: OutboxEvent) -> tuple[Message, Thread] | None:
        """The message an event is about and its thread, or None when it was deleted meanwhile."""
        if event.message_row_id is None:
            return None
        with self._uow() as uow:
            message = uow.mail.get_message_row(event.message_row_id)
            thread = uow.mail.get_thread(message.thread_id) if message is not None else None
        if message is None or thread is None:
            return None
        return message, thread

    def domain_of(self, event: OutboxEvent) -> DomainView | None:
        """The domain a domain event is about, as it is now; None when it was deleted meanwhile."""
        domain_id = event.data.get("domain_id")
        if not isinstance(domain_id, str):
            return None
        with self._uow() as uow:
            domain = uow.custom_domains.get(domain_id)
        if domain is None or domain.organization_id != event.organization_id:
            return None
        return self._catalogue.view(domain)

    def events(self, event_ids: list[str]) -> list[tuple[OutboxEvent, str | None]]:
        with self._uow() as uow:
            return uow.outbox.get_many(event_ids)

    def wanted(self, events: list[OutboxEvent]) -> set[str]:
        """The ids of the events an enabled webhook wants: only their payloads need rendering to dispatch them."""
        with self._uow() as uow:
            webhooks = {org: uow.webhooks.enabled_in(org) for org in {event.organization_id for event in events}}
        return {
            event.event_id
            for event in events
            if any(wants(webhook, event) for webhook in webhooks[event.organization_id])
        }

    def dispatch(
        self,
        rendered: list[tuple[OutboxEvent, str | None]],
        busy_webhooks: frozenset[str] = frozenset(),
        render: Callable[[OutboxEvent], str | None] | None = None,
    ) -> list[Attempt]:
        """Queue each event for every enabled webhook that wants it and mark it dispatched.

        A payload of None was not rendered (no webhook wanted the event when the caller asked ``wanted``): it is
        rendered with ``render`` if a webhook wants it after all, and otherwise stored as NULL for whoever reads the
        event later to render. An empty payload (the message was deleted before dispatch, or a type this server
        does not render) queues nothing. A new delivery that is its webhook's next one is leased in the same
        transaction and returned as an attempt to make now (unless the caller is already delivering to that
        webhook: ``busy_webhooks``).
        """
        now = self._clock.now()
        ready: dict[str, Attempt] = {}
        with self._uow(write=True, durable=False) as uow:
            webhooks: dict[str, list[Webhook]] = {}
            for event, payload in rendered:
                if event.organization_id not in webhooks:
                    webhooks[event.organization_id] = uow.webhooks.enabled_in(event.organization_id)
                wanting = [webhook for webhook in webhooks[event.organization_id] if wants(webhook, event)]
                if wanting and payload is None:
                    payload = (render(event) if render is not None else None) or ""
                for webhook in wanting if payload else ():
                    delivery = _new_delivery(webhook, event, now)
                    uow.webhook_deliveries.add(delivery)
                    if payload and webhook.webhook_id not in busy_webhooks and webhook.webhook_id not in ready:
                        attempt = self._lease_if_next(uow, webhook, delivery, payload, now)
                        if attempt is not None:
                            ready[webhook.webhook_id] = attempt
                uow.outbox.mark_dispatched(event.event_id, payload, now)
            uow.commit()
        return list(ready.values())

    def _lease_if_next(
        self, uow: UnitOfWork, webhook: Webhook, delivery: WebhookDelivery, payload: str, now: datetime
    ) -> Attempt | None:
        head = uow.webhook_deliveries.next_pending(webhook.webhook_id)
        if head is None or head.delivery_id != delivery.delivery_id:
            return None  # an older delivery (waiting for a retry, or leased elsewhere) goes first
        if not uow.webhook_deliveries.claim(delivery.delivery_id, now, now + self.policy.lease):
            return None
        delivery.lease_until = now + self.policy.lease
        return Attempt(delivery, webhook, payload)

    def heads(self, limit: int) -> list[WebhookDelivery]:
        with self._uow() as uow:
            return uow.webhook_deliveries.heads(limit)

    def claim_attempt(self, delivery_id: str) -> Attempt | None:
        """Lease the delivery for one attempt if it is its webhook's next one and due.

        None when another worker holds it, an older delivery of the webhook must go first, or it is no longer
        wanted.
        """
        now = self._clock.now()
        with self._uow(write=True, durable=False) as uow:
            delivery = uow.webhook_deliveries.get(delivery_id)
            head = uow.webhook_deliveries.next_pending(delivery.webhook_id) if delivery is not None else None
            if head is None or head.delivery_id != delivery_id or not due_now(head, now):
                return None
            if not uow.webhook_deliveries.claim(delivery_id, now, now + self.policy.lease):
                return None
            head.lease_until = now + self.policy.lease
            attempt = self._attempt_for(uow, head, now)
            uow.commit()
        return attempt

    @staticmethod
    def _attempt_for(uow: UnitOfWork, delivery: WebhookDelivery | None, now: datetime) -> Attempt | None:
        if delivery is None:
            return None
        webhook = uow.webhooks.get(delivery.webhook_id)
        payload = uow.outbox.payload(delivery.event_id)
        if webhook is None or not payload:
            return None
        if not webhook.enabled:
            uow.webhook_deliveries.abandon_pending(webhook.webhook_id, "webhook disabled", now)
            return None
        return Attempt(delivery, webhook, payload)

    def succeeded(self, attempt: Attempt) -> Attempt | None:
        """Record the delivery and, in the same transaction, lease the webhook's next due delivery (if any)."""
        now = self._clock.now()
        delivery = attempt.delivery
        delivery.status, delivery.attempts, delivery.lease_until = DeliveryStatus.DELIVERED, delivery.attempts + 1, None
        delivery.last_error, delivery.updated_at = None, now
        with self._uow(write=True, durable=False) as uow:
            uow.webhook_deliveries.save(delivery)
            if attempt.webhook.failing_since is not None:
                webhook = uow.webhooks.get(attempt.webhook.webhook_id)
                if webhook is not None:
                    webhook.failing_since = None
                    uow.webhooks.update(webhook)
            following = uow.webhook_deliveries.next_pending(delivery.webhook_id)
            upcoming = None
            if (
                following is not None
                and due_now(following, now)
                and uow.webhook_deliveries.claim(following.delivery_id, now, now + self.policy.lease)
            ):
                following.lease_until = now + self.policy.lease
                upcoming = self._attempt_for(uow, following, now)
            uow.commit()
        return upcoming

    def failed(self, attempt: Attempt, error: str) -> None:
        """Schedule the next attempt (or dead-letter the delivery) and disable a webhook failing for too long."""
        now = self._clock.now()
        delivery = attempt.delivery
        delivery.attempts += 1
        delivery.lease_until, delivery.last_error, delivery.updated_at = None, error[:MAX_ERROR_CHARS], now
        delay = retry_delay(self.policy.retry_schedule, delivery.attempts)
        if delay is None:
            delivery.status = DeliveryStatus.DEAD
        else:
            delivery.next_attempt_at = now + timedelta(seconds=delay)
        with self._uow(write=True, durable=False) as uow:
            uow.webhook_deliveries.save(delivery)
            webhook = uow.webhooks.get(attempt.webhook.webhook_id)
            if webhook is not None:
                webhook.failing_since = webhook.failing_since or now
                if should_disable(webhook.failing_since, now, self.policy.disable_after):
                    webhook.enabled, webhook.updated_at = False, now
                    uow.webhook_deliveries.abandon_pending(
                        webhook.webhook_id, "webhook disabled after failing continuously", now
                    )
                uow.webhooks.update(webhook)
            uow.commit()

    def release(self, delivery_ids: list[str]) -> None:
        """Hand back attempts interrupted by a shutdown: the next process need not wait for their leases."""
        with self._uow(write=True, durable=False) as uow:
            uow.webhook_deliveries.release(delivery_ids)
            uow.commit()

    def webhook_deliveries(self, webhook_id: str) -> list[WebhookDelivery]:
        with self._uow() as uow:
            return uow.webhook_deliveries.for_webhook(webhook_id)


def due_now(delivery: WebhookDelivery, now: datetime) -> bool:
    return delivery.next_attempt_at <= now and (delivery.lease_until is None or delivery.lease_until < now)
