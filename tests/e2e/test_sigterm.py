"""SIGTERM drains a real ``postroom serve``: the message in DATA finishes with 250 (and is kept), a new SMTP
session gets 421, /readyz reports each role, and an unknown role is refused on the command line."""

from __future__ import annotations

import signal
import smtplib
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from postroom.cli.main import app
from tests.support.server import ServerProcess


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
