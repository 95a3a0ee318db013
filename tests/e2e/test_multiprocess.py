"""A split deployment on PostgreSQL and a moto S3 server: two API processes (one also dispatching), one SMTP
process and two worker processes, as separate ``postroom serve --roles`` processes sharing nothing but the
database and the bucket. Mail comes in through SMTP, sends go through both API processes to a sink, a worker is
killed with SIGKILL in the middle of deliveries, and the per-key rate limit holds across both API processes."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from email.parser import BytesParser
from email.policy import default
from pathlib import Path

import httpx
import pytest
from agentmail import AsyncAgentMail
from agentmail.environment import AgentMailEnvironment
from agentmail.events import MessageReceivedEvent, MessageSentEvent
from agentmail.inboxes import CreateInboxRequest
from agentmail.websockets import Subscribe, Subscribed

from postroom.storage.blobs.factory import s3_client
from tests.support.databases import postgres_database
from tests.support.mail import send_mail
from tests.support.server import ServerProcess
from tests.support.sink import Received, SinkServer

BUCKET = "postroom-multiprocess"
BURST = 40  # every API key's whole budget for this test (no refill to speak of)
RECEIVED, SENT = 4, 8
START_SECONDS = 180  # five Python processes starting at once on a small, possibly busy machine
MOTO_SERVER = """
import logging, sys
from moto.server import ThreadedMotoServer
logging.getLogger("werkzeug").setLevel(logging.ERROR)
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()
server.stop()
"""


@pytest.fixture
def s3_endpoint() -> Iterator[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", MOTO_SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    assert process.stdin is not None
    try:
        endpoint = f"http://127.0.0.1:{int(process.stdout.readline())}"
        credentials = {"region": "us-east-1", "access_key_id": "testing", "secret_access_key": "testing"}
        s3_client(endpoint_url=endpoint, **credentials).create_bucket(Bucket=BUCKET)
        yield endpoint
    finally:
        process.stdin.close()
        process.wait(timeout=10)


@pytest.fixture
def sink() -> Iterator[SinkServer]:
    with SinkServer() as running:
        yield running


@pytest.fixture
def deployment(tmp_path: Path, s3_endpoint: str, sink: SinkServer) -> Iterator[dict[str, ServerProcess]]:
    shared = {
        "POSTROOM_BLOB_URL": f"s3://{BUCKET}/mail",
        "POSTROOM_S3_ENDPOINT_URL": s3_endpoint,
        "POSTROOM_S3_REGION": "us-east-1",
        "POSTROOM_S3_ACCESS_KEY_ID": "testing",
        "POSTROOM_S3_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
        "POSTROOM_MX_OVERRIDES": f"example.net={sink.address}",
        "POSTROOM_DELIVERY_LEASE_SECONDS": "5",
        "POSTROOM_RATE_LIMIT_PER_SECOND": "0.001",
        "POSTROOM_RATE_LIMIT_BURST": str(BURST),
    }
    roles = {"api1": "api,dispatcher", "api2": "api", "smtp": "smtp", "worker1": "worker", "worker2": "worker"}
    servers = {
        name: ServerProcess(tmp_path / name, database_url="", extra_env={**shared, "POSTROOM_ROLES": role})
        for name, role in roles.items()
    }
    with postgres_database() as url:
        for server in servers.values():
            server.database_url = url
        try:
            servers["api1"].start(timeout=START_SECONDS)  # migrates and prints the first key
            rest = [server for name, server in servers.items() if name != "api1"]
            for server in rest:
                server.api_key = servers["api1"].api_key
            with ThreadPoolExecutor(len(rest)) as pool:  # the others start side by side
                list(pool.map(lambda server: server.start(timeout=START_SECONDS), rest))
            yield servers
        finally:
            for server in servers.values():
                server.stop()


def client(server: ServerProcess, key: str) -> AsyncAgentMail:
    ws = server.base_url.replace("http", "ws", 1)
    return AsyncAgentMail(api_key=key, environment=AgentMailEnvironment(http=server.base_url, websockets=ws))


async def test_split_roles_share_mail_events_deliveries_and_the_rate_limit(
    deployment: dict[str, ServerProcess], sink: SinkServer
) -> None:
    api1, api2, smtp = deployment["api1"], deployment["api2"], deployment["smtp"]
    key = api1.api_key
    inbox = await client(api1, key).inboxes.create(request=CreateInboxRequest(username="split"))
    async with client(api1, key).websockets.connect() as on_1, client(api2, key).websockets.connect() as on_2:
        for socket in (on_1, on_2):
            await socket.send_subscribe(Subscribe(inbox_ids=[inbox.inbox_id]))
            assert isinstance(await asyncio.wait_for(socket.recv(), 30), Subscribed)

        received = [await asyncio.to_thread(send_mail, smtp.smtp_port, inbox.inbox_id, f"in {n}") for n in range(2)]
        sent: list[str] = []
        for n in range(SENT):
            api = api1 if n % 2 == 0 else api2
            reply = await client(api, key).inboxes.messages.send(
                inbox.inbox_id, to=f"rcpt{n}@example.net", subject=f"out {n}", text="hello"
            )
            sent.append(reply.message_id)
            if n == 1:  # deliveries are under way: one worker dies without a word
                await asyncio.to_thread(sink.wait_for, 1, 30)
                worker = deployment["worker1"].process
                assert worker is not None
                os.kill(worker.pid, signal.SIGKILL)
        received += [await asyncio.to_thread(send_mail, smtp.smtp_port, inbox.inbox_id, f"in {n}") for n in (2, 3)]

        for socket in (on_1, on_2):
            seen: Counter[str] = Counter()
            while sum(seen.values()) < RECEIVED + SENT:
                event = await asyncio.wait_for(socket.recv(), 30)
                if isinstance(event, MessageReceivedEvent):
                    seen[f"message.received:{event.message.message_id}"] += 1
                elif isinstance(event, MessageSentEvent):
                    seen[f"message.sent:{event.send.message_id}"] += 1
            assert sorted(seen) == sorted(
                [f"message.received:{m}" for m in received] + [f"message.sent:{m}" for m in sent]
            )
            assert set(seen.values()) == {1}  # every event once on each API process, whichever process made it

    def subjects_of(messages: list[Received]) -> Counter[str]:
        return Counter(str(BytesParser(policy=default).parsebytes(message.raw)["subject"]) for message in messages)

    everything = {f"out {n}" for n in range(SENT)}
    # The dead worker's leases come back; a message it delivered before dying may arrive again before the last one.
    delivered = await asyncio.to_thread(sink.wait_until, lambda messages: set(subjects_of(messages)) >= everything, 40)
    subjects = subjects_of(delivered)
    assert set(subjects) == everything  # nothing acknowledged is lost
    # Only a job the killed worker had in flight may go twice (after its lease), never a job of a live worker.
    assert sum(subjects.values()) - SENT <= 8

    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {key}"}) as http:
        created = await http.post(f"{api1.base_url}/v0/api-keys", json={"name": "limited"})
        assert created.status_code == 200, created.text
    spent = 0
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {created.json()['api_key']}"}) as http:
        while spent < BURST:
            api = api1 if spent % 2 == 0 else api2
            assert (await http.get(f"{api.base_url}/v0/inboxes")).status_code == 200
            spent += 1
        for api in (api1, api2):  # the budget is one, whichever process counts it
            refused = await http.get(f"{api.base_url}/v0/inboxes")
            assert refused.status_code == 429
            assert int(refused.headers["retry-after"]) >= 1

    # An API process killed in the middle of sends: every send it acknowledged is delivered all the same.
    acknowledged = await sends_until_killed(api2, key, inbox.inbox_id)
    assert acknowledged
    pending = set(acknowledged)
    while pending:
        arrived = await asyncio.to_thread(sink.wait_for, len(sink.messages) + 1, 40)
        pending -= {str(BytesParser(policy=default).parsebytes(message.raw)["subject"]) for message in arrived}


async def sends_until_killed(api: ServerProcess, key: str, inbox_id: str) -> list[str]:
    """Ten concurrent sends through ``api``, killed (SIGKILL) once the first is acknowledged; the subjects of the
    sends that got their 200."""
    acknowledged: list[str] = []
    url = f"{api.base_url}/v0/inboxes/{inbox_id}/messages/send"
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=60) as http:

        async def one(n: int) -> None:
            body = {"to": f"late{n}@example.net", "subject": f"late {n}", "text": "hello"}
            try:
                response = await http.post(url, json=body)
            except httpx.HTTPError:
                return  # cut off by the kill: not acknowledged, so nothing is owed
            if response.status_code == 200:
                acknowledged.append(body["subject"])

        tasks = [asyncio.create_task(one(n)) for n in range(10)]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        assert api.process is not None
        os.kill(api.process.pid, signal.SIGKILL)
        await asyncio.gather(*tasks)
    return acknowledged
