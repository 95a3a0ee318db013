"""Event payloads (§4.1), subscription matching, the retry schedule, URL safety and the hub's bounded queues."""

from __future__ import annotations

import asyncio
import json
import random
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook as StandardWebhook
from svix.webhooks import Webhook as SvixWebhook
from svix.webhooks import WebhookVerificationError

from postroom.config import Settings
from postroom.domain import events as kinds
from postroom.domain.access import Principal
from postroom.domain.events import OutboxEvent
from postroom.domain.message import Message, Thread
from postroom.domain.network import blocked_address
from postroom.domain.subscriptions import Subscription, for_principal
from postroom.domain.webhooks import (
    DEFAULT_RETRY_SCHEDULE,
    JITTER,
    check_addresses,
    retry_delay,
    should_disable,
    url_host,
)
from postroom.errors import Forbidden, InvalidInput
from postroom.events import payloads
from postroom.events.hub import Hub
from postroom.events.signing import signature_headers
from postroom.services.events.webhooks import new_secret

NOW = datetime(2026, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)


def message(**changes: object) -> Message:
    values: dict[str, object] = {
        "row_id": "msg_1",
        "inbox_id": "a@x.test",
        "organization_id": "org_1",
        "pod_id": "pod_1",
        "thread_id": "thd_1",
        "message_id": "<m1@x.test>",
        "labels": ["sent"],
        "timestamp": NOW,
        "from_": "a@x.test",
        "to": ["b@y.test"],
        "cc": [],
        "bcc": [],
        "reply_to": [],
        "subject": "Hi",
        "preview": "Hello",
        "text": "Hello",
        "html": "<p>Hello</p>",
        "extracted_text": "Hello",
        "extracted_html": "<p>Hello</p>",
        "in_reply_to": None,
        "references": [],
        "headers": {},
        "size": 100,
        "raw_blob_key": "k",
        "created_at": NOW,
        "updated_at": NOW,
    }
    values.update(changes)
    return Message(**values)  # type: ignore[arg-type]


def thread() -> Thread:
    return Thread(
        thread_id="thd_1",
        inbox_id="a@x.test",
        organization_id="org_1",
        pod_id="pod_1",
        labels=["sent"],
        timestamp=NOW,
        received_timestamp=None,
        sent_timestamp=NOW,
        senders=["a@x.test"],
        recipients=["b@y.test"],
        subject="Hi",
        preview="Hello",
        last_message_id="<m1@x.test>",
        message_count=1,
        size=100,
        created_at=NOW,
        updated_at=NOW,
    )


def event(event_type: str, data: dict[str, object] | None = None, **changes: str) -> OutboxEvent:
    values = {"organization_id": "org_1", "pod_id": "pod_1", "inbox_id": "a@x.test"} | changes
    return OutboxEvent(
        event_id="evt_1",
        event_type=event_type,
        message_row_id="msg_1",
        created_at=NOW,
        data=data or {},
        **values,
    )


IDS = {
    "inbox_id": "a@x.test",
    "thread_id": "thd_1",
    "message_id": "<m1@x.test>",
    "timestamp": "2026-05-01T12:00:00.123456Z",
}


@pytest.mark.parametrize(
    ("event_type", "data", "key", "details"),
    [
        (kinds.MESSAGE_SENT, {"recipients": ["b@y.test"]}, "send", {"recipients": ["b@y.test"]}),
        (kinds.MESSAGE_DELIVERED, {"recipients": ["b@y.test"]}, "delivery", {"recipients": ["b@y.test"]}),
        (
            kinds.MESSAGE_BOUNCED,
            {"type": "Permanent", "sub_type": "General", "recipients": [{"address": "b@y.test", "status": "5.1.1"}]},
            "bounce",
            {"type": "Permanent", "sub_type": "General", "recipients": [{"address": "b@y.test", "status": "5.1.1"}]},
        ),
        (kinds.MESSAGE_REJECTED, {"reason": "blocked recipient"}, "reject", {"reason": "blocked recipient"}),
    ],
)
def test_outcome_payloads_follow_the_spec(event_type: str, data: dict[str, object], key: str, details: object) -> None:
    rendered = payloads.render(event(event_type, data), message(), thread())
    assert rendered is not None
    assert json.loads(rendered) == {
        "type": "event",
        "event_type": event_type,
        "event_id": "evt_1",
        key: IDS | details,  # type: ignore[operator]
    }


def test_received_payload_holds_the_full_message_and_the_thread_item() -> None:
    rendered = payloads.render(event(kinds.MESSAGE_RECEIVED_SPAM), message(labels=["received", "spam"]), thread())
    assert rendered is not None
    body = json.loads(rendered)
    assert body["event_type"] == "message.received.spam"
    assert body["message"]["from"] == "a@x.test"
    assert body["message"]["text"] == "Hello"
    assert body["message"]["extracted_html"] == "<p>Hello</p>"
    assert body["message"]["timestamp"] == "2026-05-01T12:00:00.123456Z"
    assert body["thread"]["last_message_id"] == "<m1@x.test>"
    assert "messages" not in body["thread"]


def test_payloads_over_one_megabyte_leave_out_text_and_html() -> None:
    big = "x" * (600 * 1024)
    rendered = payloads.render(event(kinds.MESSAGE_RECEIVED), message(text=big, html=big), thread())
    assert rendered is not None
    body = json.loads(rendered)
    assert "text" not in body["message"]
    assert "html" not in body["message"]
    assert body["message"]["subject"] == "Hi"
    small = payloads.render(event(kinds.MESSAGE_RECEIVED), message(text="x" * 1000), thread())
    assert small is not None
    assert json.loads(small)["message"]["text"] == "x" * 1000


def test_types_this_server_does_not_emit_render_nothing() -> None:
    assert payloads.render(event(kinds.DOMAIN_VERIFIED), message(), thread()) is None


def test_signatures_verify_with_svix_and_standardwebhooks() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_")
    body = payloads.render(event(kinds.MESSAGE_SENT, {"recipients": ["b@y.test"]}), message(), thread())
    assert body is not None
    headers = signature_headers(secret, "evt_1", datetime.now(UTC), body)
    assert headers["svix-id"] == "evt_1"
    assert headers["svix-signature"].startswith("v1,")
    SvixWebhook(secret).verify(body, headers)  # raises WebhookVerificationError when the signature is wrong
    standard = {"webhook-id": headers["svix-id"], "webhook-timestamp": headers["svix-timestamp"]}
    standard["webhook-signature"] = headers["svix-signature"]
    assert StandardWebhook(secret).verify(body, standard)["event_id"] == "evt_1"
    with pytest.raises(WebhookVerificationError):
        SvixWebhook(new_secret()).verify(body, headers)


def test_subscriptions_match_scope_filters_and_restricted_types() -> None:
    org = Subscription("org_1")
    assert org.wants(event(kinds.MESSAGE_RECEIVED))
    assert not org.wants(event(kinds.MESSAGE_RECEIVED_SPAM))  # only when listed explicitly
    assert Subscription("org_1", event_types=(kinds.MESSAGE_RECEIVED_SPAM,)).wants(event(kinds.MESSAGE_RECEIVED_SPAM))
    assert not Subscription("org_2").wants(event(kinds.MESSAGE_RECEIVED))
    assert not Subscription("org_1", pod_id="pod_2").wants(event(kinds.MESSAGE_RECEIVED))
    assert not Subscription("org_1", inbox_id="b@x.test").wants(event(kinds.MESSAGE_RECEIVED))
    assert Subscription("org_1", inbox_ids=("a@x.test",)).wants(event(kinds.MESSAGE_RECEIVED))
    assert Subscription("org_1", pod_ids=("pod_1",), inbox_ids=("z@x.test",)).wants(event(kinds.MESSAGE_RECEIVED))
    assert not Subscription("org_1", pod_ids=("pod_9",)).wants(event(kinds.MESSAGE_RECEIVED))
    assert not Subscription("org_1", event_types=(kinds.MESSAGE_SENT,)).wants(event(kinds.MESSAGE_RECEIVED))


def test_a_websocket_subscription_stays_inside_the_key_scope() -> None:
    inbox_key = Principal("key_1", "org_1", "pod_1", "a@x.test", None, None, frozenset({"message_read"}))
    subscription = for_principal(inbox_key, [], [], ["B@X.TEST"])
    assert subscription.inbox_id == "a@x.test"
    assert not subscription.wants(event(kinds.MESSAGE_RECEIVED, inbox_id="b@x.test"))
    with pytest.raises(Forbidden, match="label_spam_read is forbidden"):
        for_principal(inbox_key, [kinds.MESSAGE_RECEIVED_SPAM], [], [])
    with pytest.raises(InvalidInput):
        for_principal(inbox_key, ["message.exploded"], [], [])


def test_the_default_retry_schedule_spans_more_than_a_day_with_jitter() -> None:
    rng = random.Random(7)
    delays = [retry_delay(DEFAULT_RETRY_SCHEDULE, n, rng) for n in range(1, len(DEFAULT_RETRY_SCHEDULE) + 1)]
    assert all(delay is not None for delay in delays)
    assert sum(d for d in delays if d is not None) > 24 * 3600
    assert sum(DEFAULT_RETRY_SCHEDULE) * (1 - JITTER) > 24 * 3600  # even when the jitter shrinks every delay
    assert Settings().retry_schedule() == DEFAULT_RETRY_SCHEDULE
    assert retry_delay(DEFAULT_RETRY_SCHEDULE, len(DEFAULT_RETRY_SCHEDULE) + 1) is None
    spread = {round(retry_delay((100.0,), 1, rng) or 0) for _ in range(50)}
    assert len(spread) > 5
    assert all(80 <= value <= 120 for value in spread)


def test_disabling_needs_continuous_failure_for_the_whole_period() -> None:
    period = timedelta(hours=1)
    assert not should_disable(None, NOW, period)
    assert not should_disable(NOW - timedelta(minutes=59), NOW, period)
    assert should_disable(NOW - timedelta(hours=1), NOW, period)


@pytest.mark.parametrize(
    "address", ["127.0.0.1", "10.1.2.3", "192.168.0.1", "172.16.5.4", "169.254.169.254", "::1", "fe80::1", "0.0.0.0"]
)
def test_private_loopback_and_link_local_addresses_are_blocked(address: str) -> None:
    assert blocked_address(address)
    with pytest.raises(InvalidInput):
        check_addresses("h", [address], allow_private=False)
    check_addresses("h", [address], allow_private=True)


def test_public_addresses_and_url_rules() -> None:
    assert not blocked_address("93.184.216.34")
    assert not blocked_address("2606:2800:220:1:248:1893:25c8:1946")
    assert blocked_address("::ffff:127.0.0.1")
    assert url_host("https://hooks.example.com:8443/x?y=1") == "hooks.example.com"
    for bad in ("ftp://example.com/", "https://", "https://user:pw@example.com/", "http://example.com:99999/"):
        with pytest.raises(InvalidInput):
            url_host(bad)
    with pytest.raises(InvalidInput, match="does not resolve"):
        check_addresses("nowhere.invalid", [], allow_private=True)


async def test_a_slow_client_is_dropped_without_holding_back_the_others() -> None:
    hub = Hub(max_queue=3)
    slow, fast = hub.open(), hub.open()
    everything = Subscription("org_1")
    slow.subscribe(everything)
    fast.subscribe(everything)
    received: list[str] = []
    for n in range(10):
        hub.publish(event(kinds.MESSAGE_RECEIVED), f"frame {n}")
        frame = await asyncio.wait_for(fast.next_frame(), 1)
        assert frame is not None
        received.append(frame)
    assert received == [f"frame {n}" for n in range(10)]
    assert slow.drop_reason == "client too slow: 3 events waiting"
    assert await asyncio.wait_for(slow.next_frame(), 1) is None
    assert hub.client_count == 1
    unsubscribed = hub.open()
    hub.publish(event(kinds.MESSAGE_RECEIVED), "before subscribing")
    unsubscribed.subscribe(everything)
    hub.publish(event(kinds.MESSAGE_RECEIVED), "after subscribing")
    assert await asyncio.wait_for(unsubscribed.next_frame(), 1) == "after subscribing"
