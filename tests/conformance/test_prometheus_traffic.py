"""``/metrics`` of a running ``postroom serve`` (on loopback, so served without a token) parsed with
prometheus_client's parser: the SMTP sessions and messages, ingest latency, deliveries, webhook deliveries and
websocket clients this test caused are what the counters moved by."""

from __future__ import annotations

import asyncio
import smtplib
import time

import httpx
import pytest
from agentmail import AgentMail, AsyncAgentMail
from agentmail.inboxes import CreateInboxRequest
from prometheus_client.parser import text_string_to_metric_families

from tests.conformance.helpers import unique
from tests.support.mail import send_mail
from tests.support.receiver import running_receiver
from tests.support.server import ServerProcess
from tests.support.sink import SinkServer

DEADLINE = 30.0
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(server: ServerProcess) -> Samples:
    response = httpx.get(f"{server.base_url}/metrics", timeout=10)
    assert response.status_code == 200, response.text
    found: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def wait_until(server: ServerProcess, ready: object) -> Samples:
    end = time.monotonic() + DEADLINE
    while True:
        samples = scrape(server)
        if ready(samples) or time.monotonic() > end:  # type: ignore[operator]
            return samples
        time.sleep(0.1)


def test_counters_follow_the_traffic(server: ServerProcess, sdk: AgentMail, sink: SinkServer) -> None:
    inbox = sdk.inboxes.create(request=CreateInboxRequest(username=unique("prom"))).inbox_id
    with running_receiver() as receiver:
        webhook = sdk.webhooks.create(url=receiver.url, event_types=["message.received"], inbox_ids=[inbox])
        receiver.secrets.append(webhook.secret)
        before = scrape(server)
        for subject in ("one", "two"):
            send_mail(server.smtp_port, inbox, subject=subject)
        with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=30) as smtp:  # a session that sends nothing
            smtp.ehlo()
        good, gone = f"{unique('ok')}@example.org", f"{unique('gone')}@example.org"
        sink.script_rcpt(gone, "550 5.1.1 no such user", always=True)
        sdk.inboxes.messages.send(inbox, to=[good, gone], subject="Counted", text="hello")

        def settled(samples: Samples) -> bool:
            return (
                moved(before, samples, "postroom_webhook_deliveries_total", outcome="delivered") >= 2
                and moved(before, samples, "postroom_delivery_attempts_total", outcome="delivered") >= 1
                and moved(before, samples, "postroom_delivery_attempts_total", outcome="permanent") >= 1
            )

        after = wait_until(server, settled)
        sdk.webhooks.delete(webhook.webhook_id)

    assert moved(before, after, "postroom_smtp_sessions_total") == 3
    assert moved(before, after, "postroom_smtp_messages_total", outcome="accepted") == 2
    assert moved(before, after, "postroom_ingest_duration_seconds_count") == 2
    assert moved(before, after, "postroom_delivery_attempts_total", outcome="delivered") == 1
    assert moved(before, after, "postroom_delivery_attempts_total", outcome="permanent") == 1
    assert moved(before, after, "postroom_webhook_deliveries_total", outcome="delivered") == 2
    assert moved(before, after, "postroom_webhook_delivery_latency_seconds_count") == 2
    assert value(after, "postroom_smtp_sessions_open") == 0
    send = "/v0/inboxes/{inbox_id}/messages/send"
    assert moved(before, after, "postroom_http_requests_total", method="POST", route=send, status="200") == 1
    assert moved(before, after, "postroom_http_request_duration_seconds_count", method="POST", route=send) == 1
    for gauge in ("postroom_outbound_queue_depth", "postroom_webhook_backlog", "postroom_outbox_undispatched"):
        assert (gauge, ()) in after
    assert value(after, "postroom_database_pool_size") > 0


async def test_websocket_clients_are_counted_while_connected(server: ServerProcess, async_sdk: AsyncAgentMail) -> None:
    before = value(await asyncio.to_thread(scrape, server), "postroom_websocket_clients")
    async with async_sdk.websockets.connect(), async_sdk.websockets.connect():
        during = value(await asyncio.to_thread(scrape, server), "postroom_websocket_clients")
        assert during == before + 2
    end = time.monotonic() + DEADLINE
    while value(await asyncio.to_thread(scrape, server), "postroom_websocket_clients") != before:
        if time.monotonic() > end:
            pytest.fail(f"closed websocket clients still counted after {DEADLINE} s")
        await asyncio.sleep(0.05)
