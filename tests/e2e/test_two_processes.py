"""Two ``postroom serve`` processes on one PostgreSQL database share the events (LISTEN/NOTIFY and leases)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from agentmail import AsyncAgentMail
from agentmail.environment import AgentMailEnvironment
from agentmail.events import MessageReceivedEvent
from agentmail.inboxes import CreateInboxRequest
from agentmail.websockets import Subscribe, Subscribed

from tests.support.databases import postgres_database
from tests.support.mail import send_mail
from tests.support.receiver import Receiver, running_receiver
from tests.support.server import ServerProcess

ENV = {"POSTROOM_ALLOW_PRIVATE_URLS": "true"}
COUNT = 12


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    with postgres_database() as url:
        first = ServerProcess(tmp_path / "data", database_url=url, extra_env=ENV).start()
        try:
            second = ServerProcess(tmp_path / "data", database_url=url, extra_env=ENV)
            second.api_key = first.api_key
            second.start()
            try:
                yield first, second
            finally:
                second.stop()
        finally:
            first.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


def client(server: ServerProcess) -> AsyncAgentMail:
    ws = server.base_url.replace("http", "ws", 1)
    return AsyncAgentMail(api_key=server.api_key, environment=AgentMailEnvironment(http=server.base_url, websockets=ws))


async def test_mail_received_by_one_process_reaches_the_other_and_webhooks_fire_once(
    pair: tuple[ServerProcess, ServerProcess], receiver: Receiver
) -> None:
    first, second = pair
    sdk = client(first)
    inbox = await sdk.inboxes.create(request=CreateInboxRequest(username="shared"))
    webhook = await sdk.webhooks.create(url=receiver.url, event_types=["message.received"])
    receiver.secrets.append(webhook.secret)
    async with client(second).websockets.connect() as on_second, client(first).websockets.connect() as on_first:
        for socket in (on_second, on_first):
            await socket.send_subscribe(Subscribe(inbox_ids=[inbox.inbox_id]))
            assert isinstance(await asyncio.wait_for(socket.recv(), 30), Subscribed)
        sent = []
        for n in range(COUNT):
            smtp_port = first.smtp_port if n % 2 == 0 else second.smtp_port
            sent.append(await asyncio.to_thread(send_mail, smtp_port, inbox.inbox_id, f"shared {n}"))
        for socket in (on_second, on_first):
            seen = []
            while len(seen) < COUNT:
                event = await asyncio.wait_for(socket.recv(), 30)
                assert isinstance(event, MessageReceivedEvent)
                seen.append(event.message.message_id)
            assert sorted(seen) == sorted(sent)  # every event, whichever process committed it, exactly once
    accepted = await asyncio.to_thread(receiver.wait_for, COUNT)
    assert Counter(item.svix_id for item in receiver.received).most_common(1)[0][1] == 1  # once per webhook
    assert sorted(item.event["message"]["message_id"] for item in accepted) == sorted(sent)
    assert all(item.verified_for == webhook.secret for item in accepted)
