"""Durability of the delivery queue: sends accepted by the API reach the remote host after a ``kill -9``.

The server is killed while deliveries are in flight and retries are pending; a restarted server takes over the
killed one's leased jobs once their lease runs out. Duplicates are allowed (SMTP allows them); losses are not.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from agentmail import AgentMail
from agentmail.environment import AgentMailEnvironment
from agentmail.inboxes import CreateInboxRequest

from tests.support.databases import postgres_database
from tests.support.server import ServerProcess
from tests.support.sink import SinkServer

COUNT = 40


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    if request.param == "sqlite":
        yield None
        return
    with postgres_database() as url:
        yield url


def settings(sink: SinkServer) -> dict[str, str]:
    return {
        "POSTROOM_MX_OVERRIDES": f"example.org={sink.address}",
        "POSTROOM_DELIVERY_RETRY_BASE_SECONDS": "0.5",
        "POSTROOM_DELIVERY_RETRY_MAX_SECONDS": "1",
        "POSTROOM_DELIVERY_LEASE_SECONDS": "3",
        "POSTROOM_DELIVERY_POLL_SECONDS": "0.2",
    }


def client(server: ServerProcess) -> AgentMail:
    return AgentMail(api_key=server.api_key, environment=AgentMailEnvironment(http=server.base_url, websockets=""))


def arrived(sink: SinkServer) -> set[str]:
    ids = set()
    for received in list(sink.messages):
        for line in received.raw.split(b"\r\n"):
            if line.lower().startswith(b"message-id:"):
                ids.add(line.split(b":", 1)[1].strip().decode())
    return ids


def test_sends_survive_kill_9_with_deliveries_in_flight(tmp_path: Path, database_url: str | None) -> None:
    data_dir = tmp_path / "data"
    with SinkServer() as sink:
        first = ServerProcess(data_dir, database_url=database_url, extra_env=settings(sink)).start()
        api_key = first.api_key
        try:
            sdk = client(first)
            inbox_id = sdk.inboxes.create(request=CreateInboxRequest(username=f"out-{uuid.uuid4().hex[:8]}")).inbox_id
            sent = []
            for n in range(COUNT):
                recipient = f"r{n}-{uuid.uuid4().hex[:6]}@example.org"
                if n % 2:
                    sink.script_rcpt(recipient, "451 4.3.0 try again later")  # a retry is pending at the kill
                response = sdk.inboxes.messages.send(inbox_id, to=recipient, subject=f"crash {n}", text=f"number {n}")
                sent.append(response.message_id)
            assert first.process is not None
            first.process.kill()  # SIGKILL with deliveries claimed, in flight and waiting for retry
            first.process.wait(timeout=10)
        finally:
            first.stop()
        delivered_before_restart = arrived(sink) & set(sent)
        assert len(delivered_before_restart) < COUNT, "every message was out before the kill: nothing was in flight"

        second = ServerProcess(data_dir, database_url=database_url, extra_env=settings(sink))
        second.api_key = api_key
        second.start()
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not set(sent) <= arrived(sink):
                time.sleep(0.2)
            assert set(sent) <= arrived(sink), f"lost: {sorted(set(sent) - arrived(sink))}"
            sdk = client(second)
            while time.monotonic() < deadline:
                labels = [sdk.inboxes.messages.get(inbox_id, message_id).labels for message_id in sent]
                if all("delivered" in found and "delayed" not in found for found in labels):
                    break
                time.sleep(0.3)
            assert all("delivered" in found and "delayed" not in found for found in labels), labels
        finally:
            second.stop()
