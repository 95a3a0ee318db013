"""Kept SMTP sessions: consecutive messages to one hop share a connection, and a session the peer dropped or
closed meanwhile is replaced without losing the message or handing it over twice."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from postroom.delivery.connections import SmtpSessions
from postroom.delivery.routing import Hop
from postroom.delivery.transmit import transmit
from postroom.domain.outbound import DeliveryResult
from postroom.runtime import build
from tests.conftest import make_settings
from tests.support.sink import Received, SinkServer

RETURN_PATH = "bounces+m_01jd9x@agents.example.org"
HELO = "mail.agents.example.org"


def raw(number: int) -> bytes:
    return (
        f"From: agent@agents.example.org\r\nTo: alice@b.test\r\nSubject: number {number}\r\n"
        f"Message-ID: <m{number}@agents.example.org>\r\n\r\nHello.\r\n"
    ).encode()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sink() -> Iterator[SinkServer]:
    with SinkServer() as server:
        yield server


async def send(
    sink: SinkServer, sessions: SmtpSessions | None, number: int, recipients: list[str] | None = None
) -> list[DeliveryResult]:
    return await transmit(
        [Hop(sink.host, sink.port)],
        mail_from=RETURN_PATH,
        recipients=recipients or ["alice@b.test"],
        raw=raw(number),
        helo_name=HELO,
        timeout=10,
        sessions=sessions,
    )


def subjects(sink: SinkServer, count: int) -> list[bytes]:
    return [message.raw.split(b"\r\n")[2] for message in sink.wait_for(count)]


async def test_consecutive_messages_to_one_hop_share_one_connection(sink: SinkServer) -> None:
    sessions = SmtpSessions()
    before = sink.connections

    results = [await send(sink, sessions, number) for number in range(3)]

    assert [[result.outcome for result in batch] for batch in results] == [["delivered"]] * 3
    assert subjects(sink, 3) == [b"Subject: number 0", b"Subject: number 1", b"Subject: number 2"]
    assert sink.connections - before == 1
    assert sessions.idle_count == 1
    await sessions.close_all()
    assert sessions.idle_count == 0


async def test_without_kept_sessions_each_message_connects(sink: SinkServer) -> None:
    before = sink.connections

    for number in range(2):
        await send(sink, None, number)

    assert len(sink.wait_for(2)) == 2
    assert sink.connections - before == 2


@pytest.mark.parametrize("rset_reply", [None, "421 4.4.2 closing this session"], ids=["hangs up", "answers 421"])
async def test_a_kept_session_the_peer_drops_is_replaced_and_the_message_arrives_once(
    sink: SinkServer, rset_reply: str | None
) -> None:
    sessions = SmtpSessions()
    await send(sink, sessions, 0)
    before = sink.connections
    sink.script_rset(rset_reply)

    [result] = await send(sink, sessions, 1)

    assert result.outcome == "delivered"
    assert subjects(sink, 2) == [b"Subject: number 0", b"Subject: number 1"]
    assert sink.connections - before == 1  # one new session for the message the dropped one did not take
    await sessions.close_all()


async def test_a_transaction_refused_before_data_leaves_the_session_usable_for_the_next(sink: SinkServer) -> None:
    sessions = SmtpSessions()
    sink.script_rcpt("ghost@b.test", "550 5.1.1 no such user")
    before = sink.connections

    [refused] = await send(sink, sessions, 0, ["ghost@b.test"])
    [delivered] = await send(sink, sessions, 1)

    assert (refused.outcome, refused.code) == ("permanent", 550)
    assert delivered.outcome == "delivered"
    [message] = sink.wait_for(1)
    assert message.rcpt_tos == ["alice@b.test"]  # RSET cleared the refused transaction
    assert sink.connections - before == 1
    await sessions.close_all()


async def test_sessions_idle_too_long_are_closed_and_not_reused(sink: SinkServer) -> None:
    clock = Clock()
    sessions = SmtpSessions(idle_seconds=5, monotonic=clock)
    await send(sink, sessions, 0)
    clock.now += 4

    assert await sessions.close_idle() == 0
    clock.now += 1
    assert await sessions.close_idle() == 1
    assert sessions.idle_count == 0

    before = sink.connections
    await send(sink, sessions, 1)
    clock.now += 5
    await send(sink, sessions, 2)  # the parked session expired: not taken, a new one is opened

    assert sink.connections - before == 2
    assert len(sink.wait_for(3)) == 3
    await sessions.close_all()


async def test_a_session_is_retired_after_its_message_limit(sink: SinkServer) -> None:
    sessions = SmtpSessions(max_messages=2)
    before = sink.connections

    for number in range(4):
        await send(sink, sessions, number)

    assert len(sink.wait_for(4)) == 4
    assert sink.connections - before == 2
    await sessions.close_all()


def test_the_worker_delivers_consecutive_jobs_to_one_hop_over_one_connection(
    database_url: str, tmp_path: Path, sink: SinkServer
) -> None:
    settings = make_settings(database_url, tmp_path, mx_overrides=f"b.test={sink.address}", delivery_concurrency=1)
    runtime = build(settings, migrate=False)
    try:
        with TestClient(runtime.api(), raise_server_exceptions=False) as client:
            client.headers["Authorization"] = f"Bearer {runtime.bootstrap.api_key}"
            inbox = client.post("/v0/inboxes", json={"username": "sessions"}).json()["inbox_id"]
            for number in range(3):
                body = {"to": f"r{number}@b.test", "subject": f"number {number}", "text": "hi"}
                assert client.post(f"/v0/inboxes/{inbox}/messages/send", json=body).status_code == 200
        before = sink.connections
        worker = runtime.delivery_worker()

        async def deliver_then_stop() -> list[Received]:
            running = asyncio.create_task(worker.run())
            arrived = await asyncio.to_thread(sink.wait_for, 3)
            await worker.stop(timeout=5)
            running.cancel()
            return arrived

        arrived = asyncio.run(deliver_then_stop())
    finally:
        runtime.close()
    assert sorted(message.rcpt_tos[0] for message in arrived) == ["r0@b.test", "r1@b.test", "r2@b.test"]
    assert sink.connections - before == 1
