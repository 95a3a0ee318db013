"""Durability: mail acknowledged with 250 survives a ``kill -9`` of `postroom serve`, exactly once (both databases)."""

from __future__ import annotations

import smtplib
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from agentmail import AgentMail
from agentmail.environment import AgentMailEnvironment
from agentmail.inboxes import CreateInboxRequest
from agentmail.messages import MessageItem

from tests.support.databases import postgres_database
from tests.support.server import ServerProcess
from tests.support.trust import split_verdict

COUNT = 30


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    if request.param == "sqlite":
        yield None
        return
    with postgres_database() as url:
        yield url


def client(server: ServerProcess, api_key: str) -> AgentMail:
    return AgentMail(api_key=api_key, environment=AgentMailEnvironment(http=server.base_url, websockets=""))


def every_message(sdk: AgentMail, inbox_id: str) -> list[MessageItem]:
    items: list[MessageItem] = []
    token: str | None = None
    for _ in range(100):
        page = sdk.inboxes.messages.list(inbox_id, limit=7, page_token=token)
        items.extend(page.messages)
        token = page.next_page_token
        if not token:
            return items
    raise AssertionError("pagination did not end")


def test_acknowledged_mail_survives_kill_9(tmp_path: Path, database_url: str | None) -> None:
    data_dir = tmp_path / "data"
    first = ServerProcess(data_dir, database_url=database_url).start()
    api_key = first.api_key
    assert api_key
    try:
        sdk = client(first, api_key)
        inbox_id = sdk.inboxes.create(request=CreateInboxRequest(username=f"crash-{uuid.uuid4().hex[:8]}")).inbox_id
        sent: list[str] = []
        with smtplib.SMTP("127.0.0.1", first.smtp_port, timeout=10) as smtp:
            for n in range(COUNT):
                message_id = f"<crash-{n}-{uuid.uuid4().hex}@example.org>"
                raw = (
                    f"From: ann@example.org\r\nTo: {inbox_id}\r\nSubject: crash {n}\r\nMessage-ID: {message_id}\r\n\r\n"
                )
                raw += f"Message number {n}.\r\n" + "filler line\r\n" * 50
                assert smtp.sendmail("ann@example.org", [inbox_id], raw.encode()) == {}  # each DATA got 250
                sent.append(message_id)
            assert first.process is not None
            first.process.kill()  # SIGKILL right after the last 250, before QUIT
            first.process.wait(timeout=10)
    finally:
        first.stop()

    second = ServerProcess(data_dir, database_url=database_url)
    second.api_key = api_key  # a restarted server never prints a key again
    second.start()
    try:
        assert second.api_key == api_key
        sdk = client(second, api_key)
        stored = every_message(sdk, inbox_id)
        assert sorted(m.message_id for m in stored) == sorted(sent)
        assert len(stored) == COUNT
        assert len({m.thread_id for m in stored}) == COUNT
        assert sdk.inboxes.threads.list(inbox_id, limit=100).count == COUNT
        for message_id in (sent[0], sent[-1]):
            message = sdk.inboxes.messages.get(inbox_id, message_id)
            assert f"Message number {sent.index(message_id)}." in (message.text or "")
            raw_link = sdk.inboxes.messages.get_raw(inbox_id, message_id)
            stored = httpx.get(raw_link.download_url, timeout=10).content
            assert split_verdict(stored)[1].startswith(b"From: ann@example.org\r\n")
        # The restarted server still accepts mail on its SMTP port.
        with smtplib.SMTP("127.0.0.1", second.smtp_port, timeout=10) as smtp:
            smtp.sendmail(
                "ann@example.org", [inbox_id], b"From: ann@example.org\r\nSubject: after restart\r\n\r\nhi\r\n"
            )
        assert len(every_message(sdk, inbox_id)) == COUNT + 1
    finally:
        second.stop()


SESSIONS = 12
KILL_AFTER = 60  # acknowledged messages before the kill, while every session is in the middle of more


def test_kill_9_in_the_middle_of_group_commits(tmp_path: Path, database_url: str | None) -> None:
    """Concurrent sessions file in shared transactions; a kill -9 among them loses nothing acknowledged, stores
    nothing twice, and leaves no message half-stored (each stored one reads back whole, raw bytes included)."""
    data_dir = tmp_path / "data"
    first = ServerProcess(data_dir, database_url=database_url).start()
    api_key = first.api_key
    assert api_key
    assert first.process is not None
    acknowledged: list[str] = []
    attempted: list[str] = []
    progress = threading.Condition()

    def session(number: int) -> None:
        try:
            with smtplib.SMTP("127.0.0.1", first.smtp_port, timeout=20) as smtp:
                for n in range(10_000):
                    message_id = f"<group-{number}-{n}-{uuid.uuid4().hex}@example.org>"
                    raw = (
                        f"From: ann@example.org\r\nTo: {inbox_id}\r\nSubject: group {number}/{n}\r\n"
                        f"Message-ID: {message_id}\r\n\r\nSession {number} message {n}.\r\n" + "filler\r\n" * 40
                    )
                    with progress:
                        attempted.append(message_id)
                    smtp.sendmail("ann@example.org", [inbox_id], raw.encode())  # raises unless 250
                    with progress:
                        acknowledged.append(message_id)
                        progress.notify_all()
        except (OSError, smtplib.SMTPException):
            return  # the server was killed under this session

    try:
        sdk = client(first, api_key)
        inbox_id = sdk.inboxes.create(request=CreateInboxRequest(username=f"group-{uuid.uuid4().hex[:8]}")).inbox_id
        senders = [threading.Thread(target=session, args=(number,)) for number in range(SESSIONS)]
        for sender in senders:
            sender.start()
        with progress:
            assert progress.wait_for(lambda: len(acknowledged) >= KILL_AFTER, timeout=120), "ingest stalled"
        first.process.kill()
        first.process.wait(timeout=10)
        for sender in senders:
            sender.join(30)
        assert not any(sender.is_alive() for sender in senders)
    finally:
        first.stop()

    second = ServerProcess(data_dir, database_url=database_url)
    second.api_key = api_key
    second.start()
    try:
        sdk = client(second, api_key)
        stored = every_message(sdk, inbox_id)
        stored_ids = [m.message_id for m in stored]
        assert len(stored_ids) == len(set(stored_ids)), "a message was stored twice"
        assert set(acknowledged) <= set(stored_ids), "an acknowledged message was lost"
        assert set(stored_ids) <= set(attempted)
        for message in stored:  # committed but maybe not acknowledged: whole all the same
            full = sdk.inboxes.messages.get(inbox_id, message.message_id)
            number, n = full.subject.removeprefix("group ").split("/")
            assert f"Session {number} message {n}." in (full.text or "")
            raw = httpx.get(sdk.inboxes.messages.get_raw(inbox_id, message.message_id).download_url, timeout=10)
            assert message.message_id.encode() in raw.content
        assert len({m.thread_id for m in stored}) == len(stored)  # each in its own thread, as filed
    finally:
        second.stop()
