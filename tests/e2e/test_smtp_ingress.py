"""Mail delivered over real SMTP (smtplib and swaks) into `postroom serve`, read back with the official SDK."""

from __future__ import annotations

import shutil
import smtplib
import subprocess
import uuid
from collections.abc import Iterator
from email.message import EmailMessage

import httpx
import pytest
from agentmail import AgentMail
from agentmail.environment import AgentMailEnvironment
from agentmail.inboxes import CreateInboxRequest

from tests.support.server import ServerProcess, running_server
from tests.support.trust import split_verdict

DOMAIN = "postroom.localhost"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with running_server(request.param, tmp_path_factory.mktemp(f"smtp-{request.param}")) as process:
        yield process


@pytest.fixture
def sdk(server: ServerProcess) -> AgentMail:
    return AgentMail(api_key=server.api_key, environment=AgentMailEnvironment(http=server.base_url, websockets=""))


def new_inbox(sdk: AgentMail) -> str:
    return sdk.inboxes.create(request=CreateInboxRequest(username=f"agent-{uuid.uuid4().hex[:10]}")).inbox_id


def send(server: ServerProcess, message: EmailMessage | bytes, to: list[str], sender: str = "ann@example.org") -> None:
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10) as smtp:
        if isinstance(message, bytes):
            smtp.sendmail(sender, to, message)
        else:
            smtp.send_message(message, from_addr=sender, to_addrs=to)


def test_smtplib_delivery_is_readable_through_the_sdk(server: ServerProcess, sdk: AgentMail) -> None:
    inbox_id = new_inbox(sdk)
    message = EmailMessage()
    message["From"] = "Ann Example <ann@example.org>"
    message["To"] = inbox_id
    message["Subject"] = "Quarterly numbers"
    message["Message-ID"] = f"<{uuid.uuid4().hex}@example.org>"
    message.set_content("Hello agent,\n\nHere are the numbers.\n")
    message.add_alternative("<p>Hello agent,</p><p>Here are the numbers.</p>", subtype="html")
    message.add_attachment(b"a,b\n1,2\n", maintype="text", subtype="csv", filename="numbers.csv")
    send(server, message, [inbox_id])

    listed = sdk.inboxes.messages.list(inbox_id)
    assert listed.count == 1
    item = listed.messages[0]
    assert item.subject == "Quarterly numbers"
    assert item.labels == ["received", "unread"]
    full = sdk.inboxes.messages.get(inbox_id, item.message_id)
    assert full.message_id == message["Message-ID"]
    assert full.from_ == "Ann Example <ann@example.org>"
    assert "Here are the numbers." in (full.text or "")
    assert "<p>" in (full.html or "")
    assert [a.filename for a in full.attachments or []] == ["numbers.csv"]

    threads = sdk.inboxes.threads.list(inbox_id)
    assert threads.count == 1
    assert threads.threads[0].message_count == 1

    attachment = sdk.inboxes.messages.get_attachment(inbox_id, item.message_id, full.attachments[0].attachment_id)
    assert httpx.get(attachment.download_url).content == b"a,b\n1,2\n"


def test_raw_download_is_byte_identical_and_replies_join_the_thread(server: ServerProcess, sdk: AgentMail) -> None:
    inbox_id = new_inbox(sdk)
    first_id = f"<{uuid.uuid4().hex}@example.org>"
    raw = (
        f"From: ann@example.org\r\nTo: {inbox_id}\r\nSubject: Plan\r\nMessage-ID: {first_id}\r\n"
        "Date: Mon, 06 Jan 2025 10:00:00 +0000\r\n\r\nWhat do you think?\r\n"
    ).encode()
    send(server, raw, [inbox_id])
    reply = (
        f"From: bob@example.org\r\nTo: {inbox_id}\r\nSubject: Re: Plan\r\nMessage-ID: <r-{uuid.uuid4().hex}@x>\r\n"
        f"In-Reply-To: {first_id}\r\nReferences: {first_id}\r\n\r\nLooks good.\r\n\r\n"
        "On Mon, Jan 6, 2025 at 10:00 AM Ann <ann@example.org> wrote:\r\n> What do you think?\r\n"
    ).encode()
    send(server, reply, [inbox_id], sender="bob@example.org")
    unrelated = f"From: cy@example.org\r\nTo: {inbox_id}\r\nSubject: Plan\r\n\r\nSame subject, other talk.\r\n"
    send(server, unrelated.encode(), [inbox_id])

    threads = sdk.inboxes.threads.list(inbox_id).threads
    assert sorted(t.message_count for t in threads) == [1, 2]
    joined = next(t for t in threads if t.message_count == 2)
    thread = sdk.inboxes.threads.get(inbox_id, joined.thread_id)
    assert next(m.message_id for m in thread.messages) == first_id
    assert thread.messages[1].extracted_text.strip() == "Looks good."

    link = sdk.inboxes.messages.get_raw(inbox_id, first_id)
    added, sent = split_verdict(httpx.get(link.download_url).content)
    assert b"\r\nAuthentication-Results: localhost;" in added  # below the Return-Path, above our Received
    assert b"spf=pass" in added
    assert sent == raw  # the sender's bytes, byte for byte, below the verdict


def test_rcpt_refuses_unknown_paused_and_foreign_addresses(server: ServerProcess, sdk: AgentMail) -> None:
    inbox_id = new_inbox(sdk)
    paused = new_inbox(sdk)
    sdk.inboxes.update(paused, status="paused")
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10) as smtp:
        smtp.ehlo()
        assert "size" in smtp.esmtp_features
        smtp.mail("ann@example.org")
        assert smtp.rcpt(f"nobody-{uuid.uuid4().hex}@{DOMAIN}")[0] == 550
        assert smtp.rcpt("someone@example.com")[0] == 550  # never an open relay
        assert smtp.rcpt(paused)[0] == 550
        assert smtp.rcpt(inbox_id.replace("@", "+tag@").upper())[0] == 250
        assert smtp.data(b"From: ann@example.org\r\nSubject: tagged\r\n\r\nhello\r\n")[0] == 250
    assert sdk.inboxes.messages.list(inbox_id).count == 1
    assert sdk.inboxes.messages.list(paused).count == 0


def test_one_transaction_for_several_inboxes_stores_one_copy_each(server: ServerProcess, sdk: AgentMail) -> None:
    first, second = new_inbox(sdk), new_inbox(sdk)
    send(server, b"From: ann@example.org\r\nSubject: both\r\n\r\nhi\r\n", [first, second, first.upper()])
    assert sdk.inboxes.messages.list(first).count == 1
    assert sdk.inboxes.messages.list(second).count == 1


@pytest.mark.skipif(shutil.which("swaks") is None, reason="swaks is installed by `make test`")
def test_swaks_delivers(server: ServerProcess, sdk: AgentMail) -> None:
    inbox_id = new_inbox(sdk)
    result = subprocess.run(
        [
            "swaks",
            "--to",
            inbox_id,
            "--from",
            "swaks@example.org",
            "--server",
            f"127.0.0.1:{server.smtp_port}",
            "--header",
            "Subject: from swaks",
            "--body",
            "Sent with swaks.",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    messages = sdk.inboxes.messages.list(inbox_id).messages
    assert [m.subject for m in messages] == ["from swaks"]
