"""The dispatch use cases on both databases: leases, dead letters kept, disabling, enabled periods, label log."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from postroom.domain.access import Principal
from postroom.domain.labels import LabelChange
from postroom.domain.webhooks import DeliveryStatus
from postroom.runtime import Runtime, build
from postroom.services.access.inboxes import NewInbox
from postroom.services.events.webhooks import NewWebhook, WebhookChange, WebhookRoute
from postroom.services.mail.receive import FromInbox, InboundMessage
from postroom.services.paging import ListParams
from tests.conftest import make_settings

# Stored as if another inbox of this server sent it: these tests are about filing, not about trust.
LOCAL = FromInbox("colleague@postroom.localhost")

URL = "http://127.0.0.1:9/hook"


@pytest.fixture
def events_runtime(database_url: str, tmp_path: Path) -> Iterator[Runtime]:
    settings = make_settings(
        database_url,
        tmp_path,
        allow_private_urls=True,
        webhook_retry_schedule="0,0",
        webhook_disable_after_seconds=3600,
    )
    runtime = build(settings, migrate=False)
    yield runtime
    runtime.close()


def principal(runtime: Runtime) -> Principal:
    assert runtime.bootstrap.api_key is not None
    return runtime.services.access.authenticate(f"Bearer {runtime.bootstrap.api_key}")


def receive(runtime: Runtime, inbox_id: str, n: int) -> None:
    raw = (
        f"From: a@example.com\r\nTo: {inbox_id}\r\nSubject: s{n}\r\nMessage-ID: <d{n}@example.com>\r\n\r\nbody {n}\r\n"
    )
    runtime.services.receive.store(InboundMessage(raw.encode(), "a@example.com", [inbox_id], origin=LOCAL))


def dispatch_all(runtime: Runtime) -> None:
    events = runtime.services.dispatch.claim_events(100)
    runtime.services.dispatch.dispatch([(event, f'{{"event_id": "{event.event_id}"}}') for event in events])


def test_events_are_leased_once_and_dead_letters_are_kept(events_runtime: Runtime) -> None:
    caller = principal(events_runtime)
    inbox = events_runtime.services.inboxes.create(caller, NewInbox(username="dispatch"))
    service = events_runtime.services.dispatch
    webhook = events_runtime.services.webhooks.create(
        caller, WebhookRoute(), NewWebhook(url=URL, event_types=["message.received"])
    )
    receive(events_runtime, inbox.inbox_id, 1)
    receive(events_runtime, inbox.inbox_id, 2)
    events = service.claim_events(100)
    assert len(events) == 2
    assert service.claim_events(100) == []  # leased: nobody else gets them until the lease runs out
    attempts = service.dispatch([(event, '{"x": 1}') for event in events])
    assert len(attempts) == 1  # only the webhook's first delivery is leased; the second waits its turn
    first = attempts[0]
    assert first.delivery.event_id == events[0].event_id
    assert service.claim_attempt(first.delivery.delivery_id) is None  # already leased
    second_id = next(d for d in service.webhook_deliveries(webhook.webhook_id) if d.event_id == events[1].event_id)
    assert service.claim_attempt(second_id.delivery_id) is None  # not its webhook's next delivery
    service.failed(first, "HTTP 500")
    again = service.claim_attempt(first.delivery.delivery_id)
    assert again is not None
    service.failed(again, "HTTP 500")
    last = service.claim_attempt(first.delivery.delivery_id)
    assert last is not None
    service.failed(last, "HTTP 502")  # the schedule "0,0" allows two retries: this was the third failure
    dead, queued = service.webhook_deliveries(webhook.webhook_id)
    assert dead.status is DeliveryStatus.DEAD
    assert dead.attempts == 3
    assert dead.last_error == "HTTP 502"
    assert queued.status is DeliveryStatus.PENDING
    following = service.claim_attempt(queued.delivery_id)
    assert following is not None
    assert service.succeeded(following) is None
    assert [d.status for d in service.webhook_deliveries(webhook.webhook_id)] == [
        DeliveryStatus.DEAD,
        DeliveryStatus.DELIVERED,
    ]


def test_disabled_webhooks_get_nothing_and_re_enabled_ones_only_new_events(events_runtime: Runtime) -> None:
    caller = principal(events_runtime)
    inbox = events_runtime.services.inboxes.create(caller, NewInbox(username="paused-hooks"))
    hooks = events_runtime.services.webhooks
    webhook = hooks.create(caller, WebhookRoute(), NewWebhook(url=URL, event_types=["message.received"]))
    hooks.update(caller, WebhookRoute(), webhook.webhook_id, WebhookChange(enabled=False))
    receive(events_runtime, inbox.inbox_id, 3)
    dispatch_all(events_runtime)
    hooks.update(caller, WebhookRoute(), webhook.webhook_id, WebhookChange(enabled=True))
    assert events_runtime.services.dispatch.webhook_deliveries(webhook.webhook_id) == []
    receive(events_runtime, inbox.inbox_id, 4)
    dispatch_all(events_runtime)
    [delivery] = events_runtime.services.dispatch.webhook_deliveries(webhook.webhook_id)
    assert delivery.status is DeliveryStatus.PENDING


def test_label_changes_are_logged_in_the_same_transaction(events_runtime: Runtime) -> None:
    caller = principal(events_runtime)
    inbox = events_runtime.services.inboxes.create(caller, NewInbox(username="labels-log"))
    receive(events_runtime, inbox.inbox_id, 5)
    change = LabelChange(add=("to-do",), remove=("unread",))
    events_runtime.services.mail.update_message(caller, inbox.inbox_id, "<d5@example.com>", change)
    page = events_runtime.services.inbox_events.list(caller, inbox.inbox_id, ListParams(limit=10, ascending=True))
    logged = [(event.event_type, event.label) for event in page.items]
    assert sorted(logged[:2]) == [("label.added", "received"), ("label.added", "unread")]
    assert sorted(logged[2:]) == [("label.added", "to-do"), ("label.removed", "unread")]


def test_an_event_no_webhook_wants_is_dispatched_unrendered_and_rendered_by_a_later_reader(
    events_runtime: Runtime,
) -> None:
    caller = principal(events_runtime)
    inbox = events_runtime.services.inboxes.create(caller, NewInbox(username="unwanted"))
    service = events_runtime.services.dispatch
    hooks = events_runtime.services.webhooks
    hooks.create(caller, WebhookRoute(), NewWebhook(url=URL, event_types=["message.sent"]))  # wants other events
    receive(events_runtime, inbox.inbox_id, 5)
    [event] = service.claim_events(100)
    assert service.wanted([event]) == set()
    rendered: list[str] = []
    service.dispatch([(event, None)], render=lambda e: rendered.append(e.event_id) or "{}")
    assert rendered == []  # nothing wanted it: never rendered
    assert service.events([event.event_id]) == [(event, None)]  # NULL: a websocket reader renders it itself
    assert service.claim_events(100) == []


def test_a_webhook_enabled_after_the_wanted_check_still_gets_the_event(events_runtime: Runtime) -> None:
    caller = principal(events_runtime)
    inbox = events_runtime.services.inboxes.create(caller, NewInbox(username="late-hook"))
    service = events_runtime.services.dispatch
    receive(events_runtime, inbox.inbox_id, 6)
    [event] = service.claim_events(100)
    assert service.wanted([event]) == set()
    webhook = events_runtime.services.webhooks.create(
        caller, WebhookRoute(), NewWebhook(url=URL, event_types=["message.received"])
    )
    with events_runtime.factory(write=True) as uow:  # enabled no later than the event happened
        stored = uow.webhooks.get(webhook.webhook_id)
        assert stored is not None
        uow.webhooks.update(replace(stored, enabled_at=event.created_at))
        uow.commit()
    [attempt] = service.dispatch([(event, None)], render=lambda e: f'{{"late": "{e.event_id}"}}')
    assert attempt.payload == f'{{"late": "{event.event_id}"}}'
    assert attempt.webhook.webhook_id == webhook.webhook_id
