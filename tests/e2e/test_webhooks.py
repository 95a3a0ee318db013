"""Webhooks end to end: a real ``postroom serve``, mail over SMTP, a real receiver verifying with ``svix``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from agentmail import AgentMail
from agentmail.environment import AgentMailEnvironment
from agentmail.inboxes.types import CreateInboxRequest

from tests.support.mail import send_mail
from tests.support.receiver import Receiver, running_receiver
from tests.support.server import ServerProcess, running_server

FAST_RETRIES = {
    "POSTROOM_ALLOW_PRIVATE_URLS": "true",
    "POSTROOM_WEBHOOK_RETRY_SCHEDULE": ",".join(["0.2"] * 20),
    "POSTROOM_WEBHOOK_TIMEOUT_SECONDS": "2",
}


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


def client(server: ServerProcess) -> AgentMail:
    ws = server.base_url.replace("http", "ws", 1)
    return AgentMail(api_key=server.api_key, environment=AgentMailEnvironment(http=server.base_url, websockets=ws))


def test_received_mail_is_posted_signed_with_the_message_and_thread(
    backend: str, tmp_path: Path, receiver: Receiver
) -> None:
    with running_server(backend, tmp_path, extra_env=FAST_RETRIES) as server:
        sdk = client(server)
        inbox = sdk.inboxes.create(request=CreateInboxRequest(username="hooked"))
        webhook = sdk.webhooks.create(
            url=receiver.url, event_types=["message.received"], headers={"X-Team": "mail-bots"}
        )
        receiver.secrets.append(webhook.secret)
        assert webhook.secret.startswith("whsec_")
        assert webhook.enabled is True
        message_id = send_mail(server.smtp_port, inbox.inbox_id, subject="Quarterly numbers", body="Numbers inside.\n")
        [got] = receiver.wait_for(1)
        assert got.verified_for == webhook.secret
        assert got.headers["x-team"] == "mail-bots"
        assert got.headers["content-type"] == "application/json"
        event = got.event
        assert event["type"] == "event"
        assert event["event_type"] == "message.received"
        assert event["event_id"] == got.svix_id
        assert event["message"]["message_id"] == message_id
        assert event["message"]["subject"] == "Quarterly numbers"
        assert event["message"]["text"].strip() == "Numbers inside."
        assert event["message"]["labels"] == ["received", "unread"]
        assert event["thread"]["thread_id"] == event["message"]["thread_id"]
        assert event["thread"]["message_count"] == 1
        assert "messages" not in event["thread"]  # a ThreadItem, not a Thread


def test_a_failing_receiver_gets_every_event_in_order_with_stable_ids(
    backend: str, tmp_path: Path, receiver: Receiver
) -> None:
    with running_server(backend, tmp_path, extra_env=FAST_RETRIES) as server:
        sdk = client(server)
        inbox = sdk.inboxes.create(request=CreateInboxRequest(username="flaky"))
        webhook = sdk.webhooks.create(url=receiver.url, event_types=["message.received"])
        receiver.secrets.append(webhook.secret)
        receiver.status = 500
        sent = [send_mail(server.smtp_port, inbox.inbox_id, subject=f"n{n}") for n in range(6)]
        deadline = time.monotonic() + 30
        while len(receiver.received) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(receiver.received) >= 3, "the failing receiver was not retried"
        receiver.status = 200
        accepted = receiver.wait_for(len(sent))
        assert [item.event["message"]["message_id"] for item in accepted] == sent  # in event order, each once
        assert all(item.verified_for == webhook.secret for item in receiver.received)
        failed_ids = {item.svix_id for item in receiver.received if item.status == 500}
        assert failed_ids <= {item.svix_id for item in accepted}  # a retry carries the same svix-id
        assert {item.event["message"]["message_id"] for item in receiver.received} == set(sent)
        assert sdk.webhooks.get(webhook.webhook_id).enabled is True


def test_a_receiver_failing_past_the_disable_period_is_disabled_and_can_be_re_enabled(
    backend: str, tmp_path: Path, receiver: Receiver
) -> None:
    env = FAST_RETRIES | {"POSTROOM_WEBHOOK_DISABLE_AFTER_SECONDS": "1"}
    with running_server(backend, tmp_path, extra_env=env) as server:
        sdk = client(server)
        inbox = sdk.inboxes.create(request=CreateInboxRequest(username="down"))
        webhook = sdk.webhooks.create(url=receiver.url, event_types=["message.received"])
        receiver.secrets.append(webhook.secret)
        receiver.status = 503
        send_mail(server.smtp_port, inbox.inbox_id, subject="while down")
        deadline = time.monotonic() + 30
        while sdk.webhooks.get(webhook.webhook_id).enabled and time.monotonic() < deadline:
            time.sleep(0.1)
        assert sdk.webhooks.get(webhook.webhook_id).enabled is False
        attempts = len(receiver.received)
        assert attempts >= 2
        send_mail(server.smtp_port, inbox.inbox_id, subject="while disabled")
        receiver.status = 200
        assert sdk.webhooks.update(webhook.webhook_id, enabled=True).enabled is True
        message_id = send_mail(server.smtp_port, inbox.inbox_id, subject="after re-enabling")
        [got] = receiver.wait_for(1)
        assert got.event["message"]["message_id"] == message_id  # events of the disabled period are not replayed
        assert got.event["message"]["subject"] == "after re-enabling"


def test_an_exhausted_retry_schedule_dead_letters_the_event_and_moves_on(
    backend: str, tmp_path: Path, receiver: Receiver
) -> None:
    env = FAST_RETRIES | {"POSTROOM_WEBHOOK_RETRY_SCHEDULE": "0.1,0.1"}
    with running_server(backend, tmp_path, extra_env=env) as server:
        sdk = client(server)
        inbox = sdk.inboxes.create(request=CreateInboxRequest(username="deadletter"))
        webhook = sdk.webhooks.create(url=receiver.url, event_types=["message.received"])
        receiver.secrets.append(webhook.secret)
        receiver.status = 500
        first = send_mail(server.smtp_port, inbox.inbox_id, subject="lost")
        deadline = time.monotonic() + 30
        while len(receiver.received) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        receiver.status = 200
        second = send_mail(server.smtp_port, inbox.inbox_id, subject="kept")
        [got] = receiver.wait_for(1)
        assert got.event["message"]["message_id"] == second
        # Deliveries to one webhook are in event order, so the first event was finished with before the second
        # went out: the first attempt and two retries, all failed, then the dead letter.
        attempts = [item for item in receiver.received if item.event["message"]["message_id"] == first]
        assert [item.status for item in attempts] == [500, 500, 500]
        assert len({item.svix_id for item in attempts}) == 1
