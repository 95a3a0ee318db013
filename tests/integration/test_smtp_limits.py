"""SMTP ingress limits in-process on both databases: SIZE, recipients, line length, session time, failures → 451.

Each test starts the real aiosmtpd-based server on a free loopback port in its own event loop and talks to it with
smtplib (or a raw socket) from a worker thread.
"""

from __future__ import annotations

import asyncio
import smtplib
import socket
import time
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from postroom.runtime import Runtime
from postroom.services.mail.receive import ReceiveService
from postroom.smtp.handler import ByteBudget
from postroom.smtp.server import SmtpOptions, start_smtp
from tests.support.server import free_port
from tests.support.trust import split_verdict

T = TypeVar("T")
SENDER = "ann@example.org"


def options(**overrides: Any) -> SmtpOptions:
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": free_port(),
        "hostname": "mx.test",
        "max_message_bytes": 64 * 1024,
        "max_recipients": 3,
        "idle_timeout_seconds": 30,
    }
    values.update(overrides)
    return SmtpOptions(**values)


def with_smtp(runtime: Runtime, smtp_options: SmtpOptions, client: Callable[[int], T]) -> T:
    """Run ``client(port)`` in a thread while the SMTP server runs in this test's event loop."""

    async def main() -> T:
        server = await start_smtp(runtime.services.receive, smtp_options)
        try:
            return await asyncio.wait_for(asyncio.to_thread(client, smtp_options.port), timeout=60)
        finally:
            server.close()
            await server.wait_closed()

    return asyncio.run(main())


def new_inbox(client: TestClient, username: str = "agent") -> str:
    response = client.post("/v0/inboxes", json={"username": username})
    assert response.status_code == 200, response.text
    return str(response.json()["inbox_id"])


def stored(client: TestClient, inbox_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/v0/inboxes/{inbox_id}/messages")
    assert response.status_code == 200, response.text
    return list(response.json()["messages"])


def raw_of(client: TestClient, inbox_id: str, message_id: str) -> bytes:
    link = client.get(f"/v0/inboxes/{inbox_id}/messages/{message_id}/raw")
    assert link.status_code == 200, link.text
    content: bytes = client.get(link.json()["download_url"]).content
    return content


def message(inbox_id: str, body: bytes = b"Hello.\r\n", message_id: str = "<m1@example.org>") -> bytes:
    return f"From: {SENDER}\r\nTo: {inbox_id}\r\nSubject: limits\r\nMessage-ID: {message_id}\r\n\r\n".encode() + body


def assert_reply(reply: tuple[int, bytes], code: int, enhanced: str) -> None:
    assert reply[0] == code, reply
    assert reply[1].decode().startswith(enhanced), reply


def transaction(port: int, rcpts: list[str], data: bytes, mail_options: tuple[str, ...] = ()) -> tuple[int, bytes]:
    """One MAIL/RCPT.../DATA; the reply to DATA (or to the first refused command)."""
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        smtp.ehlo("client.test")
        code, text = smtp.mail(SENDER, list(mail_options))
        if code != 250:
            return code, text
        for rcpt in rcpts:
            code, text = smtp.rcpt(rcpt)
            if code != 250:
                return code, text
        return smtp.data(data)


def test_size_is_advertised_and_a_declared_size_over_it_is_refused(runtime: Runtime, client: TestClient) -> None:
    inbox_id = new_inbox(client)

    def talk(port: int) -> tuple[str, tuple[int, bytes], tuple[int, bytes]]:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            smtp.ehlo("client.test")
            advertised = smtp.esmtp_features.get("size", "")
            refused = smtp.mail(SENDER, [f"SIZE={64 * 1024 + 1}"])
            smtp.rset()
            fits = smtp.mail(SENDER, [f"SIZE={64 * 1024}"])
            return advertised, refused, fits

    advertised, refused, fits = with_smtp(runtime, options(), talk)
    assert advertised == str(64 * 1024)
    assert_reply(refused, 552, "5.3.4")
    assert fits[0] == 250
    assert stored(client, inbox_id) == []


def test_data_over_the_size_limit_is_refused_and_nothing_is_stored(runtime: Runtime, client: TestClient) -> None:
    inbox_id = new_inbox(client)
    too_big = message(inbox_id, b"x" * 70 + b"\r\n") + b"y" * 76 * 1000 + b"\r\n"  # long lines split below
    too_big = b"\r\n".join(too_big[i : i + 76] for i in range(0, len(too_big), 76))

    def talk(port: int) -> tuple[tuple[int, bytes], tuple[int, bytes]]:
        return transaction(port, [inbox_id], too_big), transaction(port, [inbox_id], message(inbox_id))

    refused, accepted = with_smtp(runtime, options(), talk)
    assert_reply(refused, 552, "5.3.4")
    assert accepted[0] == 250
    assert [m["message_id"] for m in stored(client, inbox_id)] == ["<m1@example.org>"]


def test_recipients_beyond_the_limit_get_452_and_each_inbox_gets_one_copy(runtime: Runtime, client: TestClient) -> None:
    first, second = new_inbox(client, "first"), new_inbox(client, "second")
    plus = first.replace("@", "+tag@")

    def talk(port: int) -> list[tuple[int, bytes]]:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            smtp.ehlo("client.test")
            smtp.mail(SENDER)
            replies = [smtp.rcpt(rcpt) for rcpt in (first, plus, second, second)]
            replies.append(smtp.data(message(first)))
            return replies

    replies = with_smtp(runtime, options(max_recipients=3), talk)
    assert [code for code, _ in replies[:3]] == [250, 250, 250]
    assert_reply(replies[3], 452, "4.5.3")
    assert replies[4][0] == 250
    assert len(stored(client, first)) == 1
    assert len(stored(client, second)) == 1


def test_a_line_over_1000_bytes_is_refused_and_one_of_1000_is_kept_intact(runtime: Runtime, client: TestClient) -> None:
    inbox_id = new_inbox(client)
    longest = b"a" * 998 + b"\r\n"
    too_long = b"b" * 999 + b"\r\n"
    very_long = b"c" * 200_000 + b"\r\n"  # beyond the stream buffer too
    dotted = b"." + b"d" * 997 + b"\r\n"  # 1000 bytes as text, 1001 on the wire once dot-stuffed
    fits = message(inbox_id, longest + dotted, "<fits@example.org>")

    def talk(port: int) -> list[tuple[int, bytes]]:
        return [
            transaction(port, [inbox_id], message(inbox_id, too_long, "<long@example.org>")),
            transaction(port, [inbox_id], message(inbox_id, very_long, "<longer@example.org>")),
            transaction(port, [inbox_id], fits),
        ]

    long_reply, longer_reply, ok = with_smtp(runtime, options(max_message_bytes=1024 * 1024), talk)
    assert_reply(long_reply, 500, "5.5.2")
    assert_reply(longer_reply, 500, "5.5.2")
    assert ok[0] == 250
    [kept] = stored(client, inbox_id)
    assert kept["message_id"] == "<fits@example.org>"
    assert split_verdict(raw_of(client, inbox_id, kept["message_id"]))[1] == fits  # below Postroom's verdict


def test_big_messages_spool_to_disk_and_stay_byte_identical(runtime: Runtime, client: TestClient) -> None:
    inbox_id = new_inbox(client)
    dotted = b".starts with a dot\r\n..two dots\r\n. a dot and a space\r\n"
    body = dotted + (b"y" * 76 + b"\r\n") * 40_000 + dotted + b"end\r\n"
    sent = message(inbox_id, body, "<big@example.org>")  # ~3 MB: over the in-memory spool

    code, _ = with_smtp(
        runtime, options(max_message_bytes=8 * 1024 * 1024), lambda port: transaction(port, [inbox_id], sent)
    )
    assert code == 250
    [kept] = stored(client, inbox_id)
    assert (
        split_verdict(raw_of(client, inbox_id, kept["message_id"]))[1] == sent
    )  # smtplib dot-stuffed it; the server unstuffed it


def test_a_session_is_closed_with_421_after_the_session_time_limit(runtime: Runtime, client: TestClient) -> None:
    def talk(port: int) -> tuple[bytes, bytes, int]:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            stream = sock.makefile("rb")
            banner = stream.readline()
            for answered in range(20):  # an active session, 0.3 s apart: the idle timeout would never fire
                sock.sendall(b"NOOP\r\n")
                line = stream.readline()
                if not line.startswith(b"250"):
                    return banner, line, answered
                time.sleep(0.3)
            return banner, stream.readline(), 20

    banner, closing, answered = with_smtp(runtime, options(max_session_seconds=1), talk)
    assert banner.startswith(b"220")
    assert closing.startswith(b"421 4.4.2")
    assert answered < 20  # closed while still active, after a second's worth of commands, not at the end


def test_an_idle_session_is_closed_with_421(runtime: Runtime, client: TestClient) -> None:
    def talk(port: int) -> bytes:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            stream = sock.makefile("rb")
            stream.readline()
            return stream.readline()

    assert with_smtp(runtime, options(idle_timeout_seconds=1), talk).startswith(b"421 4.4.2")


def test_a_slow_but_steady_data_sender_is_not_cut_as_idle(runtime: Runtime, client: TestClient) -> None:
    inbox_id = new_inbox(client)
    lines = [f"line {n} of a message typed slowly".encode() for n in range(9)]

    def talk(port: int) -> bytes:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            stream = sock.makefile("rb")
            stream.readline()
            for command in (
                b"EHLO slow.example.org",
                f"MAIL FROM:<{SENDER}>".encode(),
                f"RCPT TO:<{inbox_id}>".encode(),
            ):
                sock.sendall(command + b"\r\n")
                while (line := stream.readline())[3:4] == b"-":
                    pass
                assert line.startswith(b"250"), line
            sock.sendall(b"DATA\r\n")
            assert stream.readline().startswith(b"354")
            sock.sendall(message(inbox_id, b""))
            for line in lines:  # 2.25 s of DATA, a line every 0.25 s: longer than the idle timeout, never idle
                time.sleep(0.25)
                sock.sendall(line + b"\r\n")
            sock.sendall(b".\r\n")
            return stream.readline()

    assert with_smtp(runtime, options(idle_timeout_seconds=1), talk).startswith(b"250")
    [kept] = stored(client, inbox_id)
    assert split_verdict(raw_of(client, inbox_id, kept["message_id"]))[1].endswith(b"\r\n".join(lines) + b"\r\n")


def test_a_failure_while_storing_is_451_and_nothing_is_stored(
    runtime: Runtime, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox_id = new_inbox(client)
    original = ReceiveService._file

    def file_then_fail(uow: Any, stored_message: Any) -> None:
        original(uow, stored_message)  # rows written in the open transaction, then the database fails
        raise OperationalError("INSERT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(ReceiveService, "_file", staticmethod(file_then_fail))

    def talk(port: int) -> tuple[tuple[int, bytes], tuple[int, bytes]]:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            smtp.ehlo("client.test")
            smtp.mail(SENDER)
            smtp.rcpt(inbox_id)
            failed = smtp.data(message(inbox_id))
            return failed, smtp.noop()  # the session is still usable

    failed, noop = with_smtp(runtime, options(), talk)
    assert_reply(failed, 451, "4.3.0")
    assert noop[0] == 250
    assert stored(client, inbox_id) == []
    blobs = runtime.settings.data_dir / "blobs"
    assert not [path for path in blobs.rglob("*") if path.is_file()]  # the raw blob written first was removed


def test_an_unexpected_error_in_the_handler_is_451(
    runtime: Runtime, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox_id = new_inbox(client)

    def broken(self: ReceiveService, delivery: object) -> list[str]:
        raise RuntimeError("bug")

    monkeypatch.setattr(ReceiveService, "store", broken)
    reply = with_smtp(runtime, options(), lambda port: transaction(port, [inbox_id], message(inbox_id)))
    assert_reply(reply, 451, "4.3.0")


def test_a_recipient_lookup_failure_is_451_not_550(
    runtime: Runtime, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox_id = new_inbox(client)

    def database_down(self: ReceiveService, recipient: str) -> str:
        raise OperationalError("SELECT", {}, Exception("connection refused"))

    monkeypatch.setattr(ReceiveService, "accept_recipient", database_down)
    reply = with_smtp(runtime, options(), lambda port: transaction(port, [inbox_id], message(inbox_id)))
    assert_reply(reply, 451, "4.3.0")


def test_unknown_and_paused_recipients_are_refused_with_550(runtime: Runtime, client: TestClient) -> None:
    inbox_id = new_inbox(client)
    paused = new_inbox(client, "paused")
    response = client.patch(f"/v0/inboxes/{paused}", json={"status": "paused"})
    if response.status_code >= 400:
        pytest.skip(f"pausing an inbox over the API is not available: {response.status_code}")

    def talk(port: int) -> list[tuple[int, bytes]]:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            smtp.ehlo("client.test")
            smtp.mail(SENDER)
            return [smtp.rcpt(rcpt) for rcpt in ("nobody@postroom.localhost", "someone@example.com", paused, inbox_id)]

    nobody, foreign, paused_reply, ok = with_smtp(runtime, options(), talk)
    assert_reply(nobody, 550, "5.1.1")
    assert_reply(foreign, 550, "5.1.1")
    assert paused_reply[0] == 550
    assert ok[0] == 250


def test_the_byte_budget_runs_a_request_over_the_whole_budget_alone() -> None:
    async def main() -> list[str]:
        budget = ByteBudget(100)
        events: list[str] = []

        async def job(name: str, size: int) -> None:
            weight = budget.weight(size)
            await budget.acquire(weight)
            events.append(f"start {name}")
            await asyncio.sleep(0.01)
            events.append(f"end {name}")
            budget.release(weight)

        await asyncio.gather(job("a", 40), job("b", 40), job("big", 1000), job("c", 10))
        return events

    events = asyncio.run(main())
    start_big, end_big = events.index("start big"), events.index("end big")
    assert end_big == start_big + 1  # nothing else ran while the big one did
    assert events.index("start b") < events.index("end a")  # small ones share the budget


def test_the_session_limit_waits_for_a_message_being_stored_then_closes(
    runtime: Runtime, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox_id = new_inbox(client)
    original = ReceiveService.store

    def slow(self: ReceiveService, inbound: Any) -> list[str]:
        time.sleep(1.5)  # the session limit (1 s) fires while this message is being stored
        return original(self, inbound)

    monkeypatch.setattr(ReceiveService, "store", slow)

    def talk(port: int) -> tuple[tuple[int, bytes], bytes]:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            stream = sock.makefile("rb")
            stream.readline()
            replies = []
            for command in (b"EHLO client.test", f"MAIL FROM:<{SENDER}>".encode(), f"RCPT TO:<{inbox_id}>".encode()):
                sock.sendall(command + b"\r\n")
                while (line := stream.readline())[3:4] == b"-":
                    pass
                replies.append(line)
            assert all(reply.startswith(b"250") for reply in replies), replies
            sock.sendall(b"DATA\r\n")
            stream.readline()
            sock.sendall(message(inbox_id) + b".\r\n")
            accepted = stream.readline()
            return (int(accepted[:3]), accepted[4:]), stream.readline()

    accepted, closing = with_smtp(runtime, options(max_session_seconds=1), talk)
    assert_reply(accepted, 250, "2.0.0")  # the sender gets its answer: no duplicate from a retry
    assert closing.startswith(b"421 4.4.2")
    assert len(stored(client, inbox_id)) == 1
