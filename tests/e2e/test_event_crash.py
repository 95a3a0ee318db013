"""Events survive ``kill -9``: between commit and dispatch, and with a webhook POST in flight (both databases)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from agentmail import AgentMail
from agentmail.environment import AgentMailEnvironment
from agentmail.inboxes import CreateInboxRequest

from tests.support.databases import postgres_database
from tests.support.mail import send_mail
from tests.support.receiver import Receiver, running_receiver
from tests.support.server import ServerProcess

ENV = {
    "POSTROOM_ALLOW_PRIVATE_URLS": "true",
    "POSTROOM_DISPATCH_LEASE_SECONDS": "2",
    "POSTROOM_WEBHOOK_TIMEOUT_SECONDS": "1",
    "POSTROOM_WEBHOOK_RETRY_SCHEDULE": ",".join(["0.2"] * 30),
}


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    if request.param == "sqlite":
        yield None
        return
    with postgres_database() as url:
        yield url


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


def client(server: ServerProcess) -> AgentMail:
    return AgentMail(api_key=server.api_key, environment=AgentMailEnvironment(http=server.base_url, websockets=""))


def kill_9(server: ServerProcess) -> None:
    assert server.process is not None
    server.process.kill()
    server.process.wait(timeout=10)


def restart(data_dir: Path, database_url: str | None, api_key: str) -> ServerProcess:
    server = ServerProcess(data_dir, database_url=database_url, extra_env=ENV)
    server.api_key = api_key  # a restarted server never prints its key again
    return server.start()


def test_events_committed_but_never_dispatched_are_delivered_after_restart(
    tmp_path: Path, database_url: str | None, receiver: Receiver
) -> None:
    data_dir = tmp_path / "data"
    # An API/SMTP-only process: it commits outbox rows and never dispatches them, then dies.
    first = ServerProcess(data_dir, database_url=database_url, extra_env=ENV | {"POSTROOM_RUN_DISPATCHER": "false"})
    first.start()
    try:
        sdk = client(first)
        inbox = sdk.inboxes.create(request=CreateInboxRequest(username="undispatched"))
        webhook = sdk.webhooks.create(url=receiver.url, event_types=["message.received"])
        receiver.secrets.append(webhook.secret)
        sent = [send_mail(first.smtp_port, inbox.inbox_id, subject=f"c{n}") for n in range(8)]
        kill_9(first)
    finally:
        first.stop()
    assert receiver.arrivals == 0
    second = restart(data_dir, database_url, first.api_key)
    try:
        accepted = receiver.wait_for(len(sent))
        assert [item.event["message"]["message_id"] for item in accepted] == sent
        assert all(item.verified_for == webhook.secret for item in accepted)
    finally:
        second.stop()


def test_a_graceful_stop_hands_back_the_post_in_flight(
    tmp_path: Path, database_url: str | None, receiver: Receiver
) -> None:
    env = ENV | {"POSTROOM_DISPATCH_LEASE_SECONDS": "600"}  # far longer than this test may wait
    first = ServerProcess(tmp_path / "data", database_url=database_url, extra_env=env).start()
    try:
        sdk = client(first)
        inbox = sdk.inboxes.create(request=CreateInboxRequest(username="handback"))
        webhook = sdk.webhooks.create(url=receiver.url, event_types=["message.received"])
        receiver.secrets.append(webhook.secret)
        receiver.hang.set()
        sent = send_mail(first.smtp_port, inbox.inbox_id, subject="handed back")
        deadline = time.monotonic() + 30
        while receiver.arrivals == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert receiver.arrivals == 1
    finally:
        first.stop()  # SIGTERM: a graceful stop
    receiver.released.set()
    second = ServerProcess(tmp_path / "data", database_url=database_url, extra_env=env)
    second.api_key = first.api_key
    second.start()
    try:
        deadline = time.monotonic() + 30
        while receiver.arrivals < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert receiver.arrivals == 2  # sent again at once, not after the 600 s lease
        assert receiver.received[-1].event["message"]["message_id"] == sent
        assert receiver.received[-1].verified_for == webhook.secret
    finally:
        second.stop()


def test_a_webhook_post_in_flight_at_kill_9_is_made_again_after_restart(
    tmp_path: Path, database_url: str | None, receiver: Receiver
) -> None:
    data_dir = tmp_path / "data"
    first = ServerProcess(data_dir, database_url=database_url, extra_env=ENV).start()
    try:
        sdk = client(first)
        inbox = sdk.inboxes.create(request=CreateInboxRequest(username="inflight"))
        webhook = sdk.webhooks.create(url=receiver.url, event_types=["message.received"])
        receiver.secrets.append(webhook.secret)
        receiver.hang.set()  # the first POST hangs: the dispatcher is mid-delivery when the process dies
        sent = [send_mail(first.smtp_port, inbox.inbox_id, subject=f"f{n}") for n in range(5)]
        deadline = time.monotonic() + 30
        while receiver.arrivals == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert receiver.arrivals >= 1
        kill_9(first)
    finally:
        first.stop()
    receiver.released.set()  # the hung request now completes, answering a process that is gone
    second = restart(data_dir, database_url, first.api_key)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            got = {item.event["message"]["message_id"] for item in receiver.accepted()}
            if got >= set(sent):
                break
            time.sleep(0.05)
        accepted = receiver.accepted()
        assert {item.event["message"]["message_id"] for item in accepted} == set(sent)  # none lost
        assert all(item.verified_for == webhook.secret for item in receiver.received)
        first_seen = list(dict.fromkeys(item.event["message"]["message_id"] for item in accepted))
        assert first_seen == sent  # still in event order
    finally:
        second.stop()
