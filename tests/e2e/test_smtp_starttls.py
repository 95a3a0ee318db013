"""STARTTLS on the inbound SMTP server with a configured certificate: the upgrade works and mail still lands."""

from __future__ import annotations

import smtplib
import ssl
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from agentmail import AgentMail
from agentmail.environment import AgentMailEnvironment
from agentmail.inboxes import CreateInboxRequest

from tests.support.server import ServerProcess, running_server


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, certificate: tuple[Path, Path]) -> Iterator[ServerProcess]:
    cert, key = certificate
    env = {"POSTROOM_SMTP_TLS_CERT": str(cert), "POSTROOM_SMTP_TLS_KEY": str(key)}
    with running_server("sqlite", tmp_path_factory.mktemp("starttls"), extra_env=env) as process:
        yield process


def test_starttls_upgrade_then_delivery(server: ServerProcess, certificate: tuple[Path, Path]) -> None:
    sdk = AgentMail(api_key=server.api_key, environment=AgentMailEnvironment(http=server.base_url, websockets=""))
    inbox_id = sdk.inboxes.create(request=CreateInboxRequest(username=f"tls-{uuid.uuid4().hex[:8]}")).inbox_id
    context = ssl.create_default_context(cafile=str(certificate[0]))
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10) as smtp:
        smtp.ehlo("client.example.org")
        assert smtp.has_extn("starttls")
        code, _ = smtp.starttls(context=context)
        assert code == 220
        assert isinstance(smtp.sock, ssl.SSLSocket)
        smtp.ehlo("client.example.org")
        smtp.sendmail(
            "ann@example.org", [inbox_id], b"From: ann@example.org\r\nSubject: over TLS\r\n\r\nencrypted hello\r\n"
        )
    assert [m.subject for m in sdk.inboxes.messages.list(inbox_id).messages] == ["over TLS"]


def test_plain_delivery_still_works_without_starttls(server: ServerProcess) -> None:
    sdk = AgentMail(api_key=server.api_key, environment=AgentMailEnvironment(http=server.base_url, websockets=""))
    inbox_id = sdk.inboxes.create(request=CreateInboxRequest(username=f"plain-{uuid.uuid4().hex[:8]}")).inbox_id
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10) as smtp:
        smtp.sendmail("ann@example.org", [inbox_id], b"From: ann@example.org\r\nSubject: plain\r\n\r\nhello\r\n")
    assert sdk.inboxes.messages.list(inbox_id).count == 1
