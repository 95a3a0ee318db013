"""SIGTERM drains a real ``postroom serve``: the message in DATA finishes with 250 (and is kept), a new SMTP
session gets 421, an HTTP request in flight gets its answer while new connections are refused, /readyz reports
each role, and an unknown role is refused on the command line."""

from __future__ import annotations

import http.server
import signal
import smtplib
import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from postroom.cli.main import app
from tests.support.server import ServerProcess, free_port


def _inbox(server: ServerProcess, username: str) -> str:
    headers = {"Authorization": f"Bearer {server.api_key}"}
    response = httpx.post(f"{server.base_url}/v0/inboxes", json={"username": username}, headers=headers)
    assert response.status_code == 200, response.text
    return str(response.json()["inbox_id"])


def test_sigterm_finishes_the_message_in_data_and_refuses_new_sessions(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path, extra_env={"POSTROOM_DRAIN_SECONDS": "20"}).start()
    try:
        ready = httpx.get(f"{server.base_url}/readyz").json()
        assert {name: role["ready"] for name, role in ready["roles"].items()} == {
            "api": True,
            "smtp": True,
            "worker": True,
            "dispatcher": True,
        }
        address = _inbox(server, "draining")
        session = smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=30)
        session.ehlo("client.example.com")
        assert session.mail("a@example.com")[0] == 250
        assert session.rcpt(address)[0] == 250
        session.putcmd("data")
        assert session.getreply()[0] == 354
        session.send(b"From: a@example.com\r\nSubject: in flight\r\n\r\nfirst half\r\n")

        assert server.process is not None
        server.process.send_signal(signal.SIGTERM)
        refusal: smtplib.SMTPConnectError | None = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # until the drain has begun; each try is a full SMTP greeting
            try:
                smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=5).close()
            except smtplib.SMTPConnectError as error:
                refusal = error
                break
        assert refusal is not None
        assert refusal.smtp_code == 421

        session.send(b"second half\r\n.\r\n")
        code, text = session.getreply()
        assert (code, text[:5]) == (250, b"2.0.0")
        code, _ = session.getreply()  # then the session is closed
        assert code == 421
        assert server.process.wait(timeout=30) == 0
    finally:
        server.stop()

    again = ServerProcess(tmp_path).start()  # the accepted message was stored before its 250
    try:
        headers = {"Authorization": f"Bearer {server.api_key}"}
        listed = httpx.get(f"{again.base_url}/v0/inboxes/{address}/messages", headers=headers).json()
        assert [message["subject"] for message in listed["messages"]] == ["in flight"]
    finally:
        again.stop()


class SlowAttachment:
    """A loopback web server whose one file is sent only once the test releases it."""

    BODY = b"%PDF-1.4 held back until the drain has begun"

    def __init__(self) -> None:
        self.asked = threading.Event()
        self.release = threading.Event()
        slow = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                slow.asked.set()
                slow.release.wait(15)
                self.send_response(200)
                self.send_header("Content-Type", "application/pdf")
                self.send_header("Content-Length", str(len(slow.BODY)))
                self.end_headers()
                self.wfile.write(slow.BODY)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/report.pdf"


@pytest.fixture
def slow_attachment() -> Iterator[SlowAttachment]:
    slow = SlowAttachment()
    thread = threading.Thread(target=slow.server.serve_forever, daemon=True)
    thread.start()
    yield slow
    slow.release.set()
    slow.server.shutdown()
    slow.server.server_close()


def test_sigterm_answers_the_request_in_flight_and_refuses_new_connections(
    tmp_path: Path, slow_attachment: SlowAttachment
) -> None:
    env = {"POSTROOM_DRAIN_SECONDS": "20", "POSTROOM_ALLOW_PRIVATE_URLS": "true"}
    server = ServerProcess(tmp_path, extra_env=env).start()
    try:
        sender, recipient = _inbox(server, "slow-sender"), _inbox(server, "slow-recipient")
        headers = {"Authorization": f"Bearer {server.api_key}"}
        body = {"to": [recipient], "subject": "held", "text": "x", "attachments": [{"url": slow_attachment.url}]}
        with ThreadPoolExecutor(1) as pool:
            sending = pool.submit(
                httpx.post,
                f"{server.base_url}/v0/inboxes/{sender}/messages/send",
                json=body,
                headers=headers,
                timeout=30,
            )
            assert slow_attachment.asked.wait(15), "the send never fetched its attachment"

            assert server.process is not None
            server.process.send_signal(signal.SIGTERM)
            refused = False
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not refused:  # until the listener has closed
                try:
                    httpx.get(f"{server.base_url}/healthz", timeout=2)
                except httpx.ConnectError:
                    refused = True
                except (httpx.RemoteProtocolError, httpx.ReadError):
                    # accepted in the instant before the listener closed, then closed unanswered as an idle
                    # connection: not served either
                    refused = True
            assert refused, "a new connection was still served 10 s after SIGTERM"
            assert not sending.done()  # still waiting on its attachment

            slow_attachment.release.set()
            answer = sending.result(timeout=20)
        assert answer.status_code == 200, answer.text
        assert answer.json()["message_id"]
        assert server.process.wait(timeout=30) == 0
    finally:
        server.stop()

    with sqlite3.connect(tmp_path / "postroom.db") as database:  # the answered send was committed
        rows = database.execute("SELECT subject FROM messages WHERE inbox_id = ?", (sender,)).fetchall()
    assert rows == [("held",)]


def test_a_process_without_the_api_role_answers_readyz_for_its_roles(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path, extra_env={"POSTROOM_ROLES": "smtp,worker"}).start()
    try:
        ready = httpx.get(f"{server.base_url}/readyz").json()
        assert sorted(ready["roles"]) == ["smtp", "worker"]
        assert httpx.get(f"{server.base_url}/v0/inboxes").status_code == 404  # no API here
        with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10) as smtp:
            assert smtp.noop()[0] == 250
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("roles", "message"),
    [("api,mx", "unknown role 'mx': the roles are api, smtp, worker, dispatcher"), (",", "no role given")],
)
def test_an_unknown_or_empty_role_is_refused(roles: str, message: str) -> None:
    result = CliRunner().invoke(app, ["serve", "--roles", roles])
    assert result.exit_code == 2
    assert message in result.output
