"""Sending through the official SDK (spec §3.5, §1.8, §4.1) on SQLite and PostgreSQL: what reaches the wire.

Mail to example.org goes to the session's sink SMTP server; each test uses its own recipient addresses and reads
the sink's log for them only. Mail between two inboxes of the server is delivered locally by the worker.
"""

from __future__ import annotations

import base64
import email
import http.server
import json
import os
import shutil
import smtplib
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any, TypeVar

import dkim  # type: ignore[import-untyped]
import dns.zone
import httpx
import pytest
from agentmail import AgentMail, AsyncAgentMail, SendAttachment
from agentmail.core.api_error import ApiError
from agentmail.errors import ConflictError, ValidationError
from agentmail.inboxes import CreateInboxRequest
from agentmail.messages import Message
from agentmail.messages.errors import MessageRejectedError

from tests.conformance.conftest import environment, outbound_env
from tests.conformance.helpers import DEFAULT_DOMAIN, NO_RETRY, expect_async_error, expect_error, unique
from tests.support.databases import postgres_database
from tests.support.server import ServerProcess, running_server
from tests.support.sink import GreetingRefuser, Received, SinkServer

T = TypeVar("T")

DEADLINE = 30.0  # generous: only how long to wait for the worker, never an assertion about speed
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 3 + b"\r\n.\r\n"
PDF = b"%PDF-1.4\n" + bytes(range(255, -1, -1)) * 2 + b"\n%%EOF\n"


# --- helpers -------------------------------------------------------------------------------------------------------


def remote(prefix: str = "rcpt") -> str:
    """A recipient at a sink domain that no other test uses."""
    return f"{unique(prefix)}@example.org"


def new_inbox(sdk: AgentMail, display_name: str | None = None) -> str:
    request = CreateInboxRequest(username=unique("send"), display_name=display_name)
    return str(sdk.inboxes.create(request=request).inbox_id)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def eventually(probe: Callable[[], T | None], what: str, timeout: float = DEADLINE) -> T:
    """Poll ``probe`` until it returns something other than None; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def arrivals(sink: SinkServer, address: str, count: int = 1) -> list[Received]:
    """The sink transactions that had ``address`` among their accepted RCPTs, once there are ``count`` of them."""

    def probe() -> list[Received] | None:
        found = [m for m in list(sink.messages) if address.lower() in (r.lower() for r in m.rcpt_tos)]
        return found if len(found) >= count else None

    return eventually(probe, f"{count} message(s) to {address} at the sink")


def received_so_far(sink: SinkServer, address: str) -> list[Received]:
    return [m for m in list(sink.messages) if address.lower() in (r.lower() for r in m.rcpt_tos)]


def parsed(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=default_policy)
    assert isinstance(message, EmailMessage)
    return message


def with_label(sdk: AgentMail, inbox_id: str, message_id: str, label: str) -> Message:
    def probe() -> Message | None:
        message = sdk.inboxes.messages.get(inbox_id, message_id)
        return message if label in message.labels else None

    return eventually(probe, f"label {label!r} on {message_id}")


def arrived_in(sdk: AgentMail, inbox_id: str, subject: str) -> Message:
    """The message with ``subject`` received by a local inbox (delivered by the worker)."""

    def probe() -> Message | None:
        for item in sdk.inboxes.messages.list(inbox_id).messages:
            if item.subject == subject and "received" in item.labels:
                message: Message = sdk.inboxes.messages.get(inbox_id, item.message_id)
                return message
        return None

    return eventually(probe, f"{subject!r} in {inbox_id}")


def dkim_verifies(sdk: AgentMail, raw: bytes) -> bool:
    """Check the signature against the public key published in the default domain's zone file."""
    zone_text = b"".join(sdk.domains.get_zone_file(DEFAULT_DOMAIN)).decode()
    # The file is records to add to an existing zone, so it has no SOA or NS of its own.
    zone = dns.zone.from_text(zone_text, relativize=False, check_origin=False)
    records: dict[str, bytes] = {}
    for name, rdataset in zone.iterate_rdatasets("TXT"):
        records[name.to_text().lower()] = b"".join(b"".join(rdata.strings) for rdata in rdataset)

    def dnsfunc(name: bytes | str, timeout: float = 5) -> bytes | None:
        key = name.decode() if isinstance(name, bytes) else name
        return records.get(key.lower() if key.endswith(".") else f"{key.lower()}.")

    assert any("_domainkey" in name for name in records), zone_text
    return bool(dkim.verify(raw, dnsfunc=dnsfunc))


def raw_of(sdk: AgentMail, inbox_id: str, message_id: str) -> bytes:
    download = sdk.inboxes.messages.get_raw(inbox_id, message_id)
    response = httpx.get(download.download_url, timeout=10)
    response.raise_for_status()
    return response.content


@pytest.fixture
def web() -> Iterator[str]:
    """A loopback HTTP server: /report.pdf answers with PDF bytes, everything else 404."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/report.pdf":
                self.send_response(200)
                self.send_header("Content-Type", "application/pdf")
                self.send_header("Content-Length", str(len(PDF)))
                self.end_headers()
                self.wfile.write(PDF)
            elif self.path == "/download?id=7":
                body = b"quarter,total\r\nq3,42\r\n"
                self.send_response(200)
                self.send_header("Content-Type", "text/csv")
                self.send_header("Content-Disposition", 'attachment; filename="q3 totals.csv"')
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            elif self.path in ("/moved", "/loop"):
                self.send_response(302)
                self.send_header("Location", "/report.pdf" if self.path == "/moved" else "/loop")
                self.send_header("Content-Length", "0")
                self.end_headers()
            else:
                self.send_error(404)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


# --- one send, taken apart at the sink --------------------------------------------------------------------------


def test_send_reaches_the_wire_signed_and_complete(sdk: AgentMail, sink: SinkServer) -> None:
    inbox_id = new_inbox(sdk, display_name="Ada Agent")
    to, cc, bcc = remote("to"), remote("cc"), remote("bcc")
    subject = "Grüße — quarterly ✓ report"
    sent = sdk.inboxes.messages.send(
        inbox_id,
        to=[f"Tom To <{to}>"],
        cc=cc,
        bcc=[bcc],
        subject=subject,
        text="Numbers attached.\nSee the chart.",
        html='<p>Numbers attached.</p><img src="cid:chart@postroom">',
        attachments=[
            SendAttachment(content=b64(PDF), filename="report.pdf", content_type="application/pdf"),
            SendAttachment(
                content=b64(PNG),
                filename="chart.png",
                content_type="image/png",
                content_disposition="inline",
                content_id="chart@postroom",
            ),
        ],
        headers={"X-Agent-Run": "run-42"},
        labels=["Campaign-7", "outreach"],
    )
    assert sent.message_id.startswith("<")
    assert sent.message_id.endswith(f"@{DEFAULT_DOMAIN}>")
    assert sent.thread_id

    [transaction] = arrivals(sink, to)
    assert sorted(r.lower() for r in transaction.rcpt_tos) == sorted([to, cc, bcc])
    assert transaction.mail_from.startswith("bounces=msg_")
    assert transaction.mail_from.endswith(f"@{DEFAULT_DOMAIN}")

    wire = parsed(transaction.raw)
    sender = wire["From"].addresses
    assert [(a.display_name, a.addr_spec) for a in sender] == [("Ada Agent", inbox_id)]
    assert [(a.display_name, a.addr_spec) for a in wire["To"].addresses] == [("Tom To", to)]
    assert [a.addr_spec for a in wire["Cc"].addresses] == [cc]
    assert wire["Bcc"] is None
    assert bcc.encode() not in transaction.raw.lower()
    assert wire["Subject"] == subject
    assert wire["Message-ID"].strip() == sent.message_id
    assert wire["X-Agent-Run"] == "run-42"
    assert wire["DKIM-Signature"] is not None
    assert "d=postroom.localhost" in wire["DKIM-Signature"].replace(" ", "")

    body = wire.get_body(preferencelist=("plain",))
    assert body is not None
    assert "Numbers attached." in body.get_content()
    html = wire.get_body(preferencelist=("html",))
    assert html is not None
    assert "cid:chart@postroom" in html.get_content()
    parts = {part.get_filename(): part for part in wire.walk() if part.get_filename()}
    assert parts["report.pdf"].get_content_type() == "application/pdf"
    assert parts["report.pdf"].get_payload(decode=True) == PDF
    assert parts["chart.png"].get_payload(decode=True) == PNG
    assert parts["chart.png"]["Content-ID"].strip() == "<chart@postroom>"
    assert parts["chart.png"].get_content_disposition() == "inline"

    assert dkim_verifies(sdk, transaction.raw)
    tampered = transaction.raw.replace(b"run-42", b"run-43").replace(b"Numbers attached.", b"Numbers changed!!")
    assert not dkim_verifies(sdk, tampered)

    # The sender's copy: its own thread, labelled sent + the caller's labels (lower-cased), later delivered.
    copy = sdk.inboxes.messages.get(inbox_id, sent.message_id)
    assert copy.thread_id == sent.thread_id
    assert "sent" in copy.labels
    assert "campaign-7" in copy.labels
    assert "outreach" in copy.labels
    assert "received" not in copy.labels
    assert copy.subject == subject
    assert copy.bcc == [bcc]
    thread = sdk.inboxes.threads.get(inbox_id, sent.thread_id)
    assert [m.message_id for m in thread.messages] == [sent.message_id]
    delivered = with_label(sdk, inbox_id, sent.message_id, "delivered")
    assert "sent" in delivered.labels
    assert {"bounced", "delayed", "rejected"}.isdisjoint(delivered.labels)
    # What the API stores is byte for byte what went out.
    assert raw_of(sdk, inbox_id, sent.message_id) == transaction.raw


@pytest.mark.parametrize(
    "display_name", ["Zoë Ägent", "Ann (Bot)", "Smith, John", 'Ann "The" Agent', "Ops @ Acme", "Support: Tier 1"]
)
def test_any_display_name_reaches_the_from_header_intact(sdk: AgentMail, sink: SinkServer, display_name: str) -> None:
    """Specials (, " @ : ( ) in a display name must be quoted on the wire, not parsed as address syntax."""
    inbox_id = new_inbox(sdk, display_name=display_name)
    to = remote("names")
    sent = sdk.inboxes.messages.send(inbox_id, to=to, subject="Names", text="Hi.", request_options=NO_RETRY)
    [transaction] = arrivals(sink, to)
    [sender] = parsed(transaction.raw)["From"].addresses
    assert (sender.display_name, sender.addr_spec) == (display_name, inbox_id)
    assert dkim_verifies(sdk, transaction.raw)
    assert sdk.inboxes.messages.get(inbox_id, sent.message_id).from_.endswith(f"<{inbox_id}>")


# --- a conversation between two inboxes of the server -----------------------------------------------------------


def test_two_inboxes_converse_through_the_sdk(sdk: AgentMail, sink: SinkServer) -> None:
    ann, bob = new_inbox(sdk, "Ann"), new_inbox(sdk, "Bob")
    carol, dave = remote("carol"), remote("dave")
    topic = f"Plan {uuid.uuid4().hex[:8]}"

    first = sdk.inboxes.messages.send(ann, to=bob, cc=carol, subject=topic, text="Shall we?")
    at_bob = arrived_in(sdk, bob, topic)
    assert at_bob.message_id == first.message_id
    assert at_bob.from_ == f"Ann <{ann}>"

    second = sdk.inboxes.messages.reply(bob, at_bob.message_id, text="Yes.", reply_all=True)
    at_ann = arrived_in(sdk, ann, f"Re: {topic}")
    assert at_ann.message_id == second.message_id
    assert at_ann.in_reply_to == first.message_id
    assert at_ann.references == [first.message_id]
    assert at_ann.thread_id == first.thread_id  # filed in Ann's thread of the first message

    third = sdk.inboxes.messages.reply_all(ann, at_ann.message_id, text="Great, cc Carol.")
    at_bob_2 = eventually(
        lambda: next(
            (
                m
                for m in sdk.inboxes.messages.list(bob).messages
                if m.message_id == third.message_id and "received" in m.labels
            ),
            None,
        ),
        "Ann's reply-all at Bob",
    )
    assert at_bob_2.thread_id == second.thread_id

    forward = sdk.inboxes.messages.forward(
        bob,
        third.message_id,
        to=dave,
        text="FYI, see below.",
        attachments=[SendAttachment(content=b64(PDF), filename="minutes.pdf", content_type="application/pdf")],
    )

    # Carol is on every message of the conversation; Dave gets the forward.
    carol_mail = arrivals(sink, carol, 3)
    wire = {parsed(m.raw)["Message-ID"].strip(): parsed(m.raw) for m in carol_mail}
    assert set(wire) == {first.message_id, second.message_id, third.message_id}
    assert wire[first.message_id]["In-Reply-To"] is None
    assert wire[second.message_id]["Subject"] == f"Re: {topic}"
    assert wire[second.message_id]["In-Reply-To"].strip() == first.message_id
    assert wire[second.message_id]["References"].split() == [first.message_id]
    assert wire[third.message_id]["Subject"] == f"Re: {topic}"
    assert wire[third.message_id]["In-Reply-To"].strip() == second.message_id
    assert wire[third.message_id]["References"].split() == [first.message_id, second.message_id]
    assert {a.addr_spec for a in wire[second.message_id]["To"].addresses} == {ann}
    assert {a.addr_spec for a in wire[second.message_id]["Cc"].addresses} == {carol}
    assert {a.addr_spec for a in wire[third.message_id]["To"].addresses} == {bob}
    assert {a.addr_spec for a in wire[third.message_id]["Cc"].addresses} == {carol}

    [forwarded] = arrivals(sink, dave)
    fwd = parsed(forwarded.raw)
    assert fwd["Subject"] == f"Fwd: Re: {topic}"
    assert fwd["Message-ID"].strip() == forward.message_id
    text = fwd.get_body(preferencelist=("plain",))
    assert text is not None
    content = text.get_content()
    assert content.index("FYI, see below.") < content.index("Great, cc Carol.")
    names = {part.get_filename(): part.get_payload(decode=True) for part in fwd.walk() if part.get_filename()}
    assert names == {"minutes.pdf": PDF}
    assert dkim_verifies(sdk, forwarded.raw)

    # Each side: one conversation thread, messages in order, sent/received labels on the right ones.
    ann_thread = sdk.inboxes.threads.get(ann, first.thread_id)
    assert [m.message_id for m in ann_thread.messages] == [first.message_id, second.message_id, third.message_id]
    assert [("sent" in m.labels, "received" in m.labels) for m in ann_thread.messages] == [
        (True, False),
        (False, True),
        (True, False),
    ]
    bob_thread = sdk.inboxes.threads.get(bob, second.thread_id)
    assert [m.message_id for m in bob_thread.messages] == [first.message_id, second.message_id, third.message_id]
    assert [("sent" in m.labels, "received" in m.labels) for m in bob_thread.messages] == [
        (False, True),
        (True, False),
        (False, True),
    ]
    # A forward carries no In-Reply-To/References, so it starts a thread of its own.
    forward_copy = sdk.inboxes.messages.get(bob, forward.message_id)
    assert forward_copy.thread_id == forward.thread_id != second.thread_id
    assert forward_copy.in_reply_to is None
    assert [a.filename for a in forward_copy.attachments or []] == ["minutes.pdf"]
    # Local mail is delivered too, and Ann's copies never carry Bob's labels.
    with_label(sdk, ann, first.message_id, "delivered")
    with_label(sdk, bob, forward.message_id, "delivered")


def test_reply_and_reply_all_to_mail_from_outside(server: ServerProcess, sdk: AgentMail, sink: SinkServer) -> None:
    inbox_id = new_inbox(sdk, "Desk")
    ann, replies, dan, carol = remote("ann"), remote("replies"), remote("dan"), remote("carol")
    local, _, domain = inbox_id.partition("@")
    original_id = f"<{uuid.uuid4().hex}@example.org>"
    raw = (
        f"From: Ann <{ann}>\r\n"
        f"Reply-To: {replies}\r\n"
        f"To: {inbox_id}, Dan <{dan}>\r\n"
        f"Cc: Carol <{carol}>, {local}+tag@{domain.upper()}\r\n"
        "Subject: Question\r\n"
        f"Message-ID: {original_id}\r\n"
        "References: <root@example.org>\r\n"
        "In-Reply-To: <root@example.org>\r\n"
        "\r\nCan you help?\r\n"
    ).encode()
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10) as smtp:
        assert smtp.sendmail(ann, [inbox_id], raw) == {}
    received = sdk.inboxes.messages.get(inbox_id, original_id)

    reply = sdk.inboxes.messages.reply(inbox_id, original_id, text="Only to you.")
    everyone = sdk.inboxes.messages.reply_all(inbox_id, original_id, text="To all of you.")
    assert reply.thread_id == everyone.thread_id == received.thread_id

    by_id = {parsed(m.raw)["Message-ID"].strip(): m for m in arrivals(sink, replies, 2)}
    to_replies, all_to_replies = by_id[reply.message_id], by_id[everyone.message_id]
    assert [r.lower() for r in to_replies.rcpt_tos] == [replies]  # Reply-To wins over From, and nobody else
    single = parsed(to_replies.raw)
    assert single["Message-ID"].strip() == reply.message_id
    assert [a.addr_spec for a in single["To"].addresses] == [replies]
    assert single["Cc"] is None
    assert single["Subject"] == "Re: Question"
    assert single["In-Reply-To"].strip() == original_id
    assert single["References"].split() == ["<root@example.org>", original_id]

    wide = parsed(all_to_replies.raw)
    assert wide["Message-ID"].strip() == everyone.message_id
    assert [a.addr_spec for a in wide["To"].addresses] == [replies, dan]
    assert [(a.display_name, a.addr_spec) for a in wide["Cc"].addresses] == [("Carol", carol)]
    # Never our own address, not even plus-tagged and upper-cased.
    assert sorted(r.lower() for r in all_to_replies.rcpt_tos) == sorted([replies, dan, carol])
    assert received_so_far(sink, ann) == []

    thread = sdk.inboxes.threads.get(inbox_id, received.thread_id)
    assert [m.message_id for m in thread.messages] == [original_id, reply.message_id, everyone.message_id]


def test_explicit_recipients_of_a_reply_replace_the_derived_ones(sdk: AgentMail, sink: SinkServer) -> None:
    inbox_id = new_inbox(sdk)
    first_to, instead = remote("first"), remote("instead")
    sent = sdk.inboxes.messages.send(inbox_id, to=first_to, subject="Start", text="Hi.")
    reply = sdk.inboxes.messages.reply(inbox_id, sent.message_id, to=[instead], text="Moved.")
    [transaction] = arrivals(sink, instead)
    assert [r.lower() for r in transaction.rcpt_tos] == [instead]
    wire = parsed(transaction.raw)
    assert wire["Message-ID"].strip() == reply.message_id
    assert wire["In-Reply-To"].strip() == sent.message_id
    assert len(arrivals(sink, first_to)) == 1  # only the first message went to the first recipient
    with_label(sdk, inbox_id, reply.message_id, "delivered")
    assert len(received_so_far(sink, first_to)) == 1


def test_one_rcpt_per_distinct_address(sdk: AgentMail, sink: SinkServer) -> None:
    inbox_id = new_inbox(sdk)
    to, other = remote("dup"), remote("other")
    sent = sdk.inboxes.messages.send(
        inbox_id, to=[to, f"Again <{to.upper()}>"], cc=[to, other], bcc=[other], subject="Dups", text="x"
    )
    [transaction] = arrivals(sink, to)
    assert sorted(r.lower() for r in transaction.rcpt_tos) == sorted([to, other])
    assert parsed(transaction.raw)["Message-ID"].strip() == sent.message_id
    with_label(sdk, inbox_id, sent.message_id, "delivered")
    assert len(received_so_far(sink, to)) == 1


# --- retries, bounces, DSNs -------------------------------------------------------------------------------------


def test_temporary_failure_is_delayed_then_delivered(sdk: AgentMail, sink: SinkServer) -> None:
    inbox_id = new_inbox(sdk)
    to = remote("later")
    for _ in range(3):  # three refusals keep the message in `delayed` for a few retry rounds
        sink.script_rcpt(to, "451 4.3.0 try later")
    sent = sdk.inboxes.messages.send(inbox_id, to=to, subject="Retry me", text="Hello.")

    delayed = with_label(sdk, inbox_id, sent.message_id, "delayed")
    assert "delivered" not in delayed.labels
    delivered = with_label(sdk, inbox_id, sent.message_id, "delivered")
    assert "delayed" not in delivered.labels
    [transaction] = arrivals(sink, to)
    assert parsed(transaction.raw)["Message-ID"].strip() == sent.message_id
    replies = [reply for address, reply in list(sink.rcpt_log) if address.lower() == to]
    assert replies[:3] == ["451 4.3.0 try later"] * 3
    assert replies[3].startswith("250")


def test_hard_bounce_labels_and_suppresses(sdk: AgentMail, sink: SinkServer) -> None:
    inbox_id = new_inbox(sdk)
    nobody = remote("nobody")
    sink.script_rcpt(nobody, "550 5.1.1 no such user", always=True)
    sent = sdk.inboxes.messages.send(inbox_id, to=nobody, subject="Anyone there?", text="Hello.")

    bounced = with_label(sdk, inbox_id, sent.message_id, "bounced")
    assert "delivered" not in bounced.labels
    assert "sent" in bounced.labels
    assert received_so_far(sink, nobody) == []

    attempts = len([1 for address, _ in list(sink.rcpt_log) if address.lower() == nobody])
    body = expect_error(
        lambda: sdk.inboxes.messages.send(inbox_id, to=nobody, text="Again?", request_options=NO_RETRY),
        403,
        "message_rejected",
        MessageRejectedError,
    )
    assert nobody in body["message"]
    # Mixed with a good address, the whole message is refused: nothing is stored, nothing queued.
    good = remote("good")
    expect_error(
        lambda: sdk.inboxes.messages.send(inbox_id, to=[good, nobody], text="x", request_options=NO_RETRY),
        403,
        "message_rejected",
        MessageRejectedError,
    )
    assert [m.message_id for m in sdk.inboxes.messages.list(inbox_id).messages] == [sent.message_id]
    assert len([1 for address, _ in list(sink.rcpt_log) if address.lower() == nobody]) == attempts
    assert received_so_far(sink, good) == []


def test_local_recipients_that_do_not_exist_bounce(sdk: AgentMail) -> None:
    inbox_id = new_inbox(sdk)
    ghost = f"{unique('ghost')}@{DEFAULT_DOMAIN}"
    sent = sdk.inboxes.messages.send(inbox_id, to=ghost, subject="Hello?", text="x")
    bounced = with_label(sdk, inbox_id, sent.message_id, "bounced")
    assert "delivered" not in bounced.labels
    expect_error(
        lambda: sdk.inboxes.messages.send(inbox_id, to=ghost, text="x", request_options=NO_RETRY),
        403,
        "message_rejected",
        MessageRejectedError,
    )


def test_mail_to_a_paused_local_inbox_bounces_but_does_not_suppress_it(sdk: AgentMail) -> None:
    """Pausing is temporary: once the inbox is active again, mail to it must go through."""
    sender, resting = new_inbox(sdk), new_inbox(sdk)
    sdk.inboxes.update(resting, status="paused")
    sent = sdk.inboxes.messages.send(sender, to=resting, subject="While paused", text="x")
    with_label(sdk, sender, sent.message_id, "bounced")
    assert sdk.inboxes.messages.list(resting).count == 0
    sdk.inboxes.update(resting, status="active")
    again = sdk.inboxes.messages.send(sender, to=resting, subject="Back", text="x", request_options=NO_RETRY)
    with_label(sdk, sender, again.message_id, "delivered")
    assert arrived_in(sdk, resting, "Back").message_id == again.message_id


def dsn_for(return_path: str, failed: str, original_message_id: str) -> bytes:
    boundary = f"dsn-{uuid.uuid4().hex}"
    return (
        "From: Mail Delivery System <mailer-daemon@example.org>\r\n"
        f"To: {return_path}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        f"Message-ID: <{uuid.uuid4().hex}@example.org>\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\r\n\r\n'
        f"--{boundary}\r\n"
        "Content-Type: text/plain\r\n\r\n"
        f"Your message to {failed} could not be delivered.\r\n"
        f"--{boundary}\r\n"
        "Content-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.org\r\n\r\n"
        f"Final-Recipient: rfc822; {failed}\r\n"
        "Action: failed\r\n"
        "Status: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\r\n"
        f"--{boundary}\r\n"
        "Content-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: {original_message_id}\r\n"
        f"To: {failed}\r\n\r\n"
        f"--{boundary}--\r\n"
    ).encode()


def test_dsn_to_the_return_path_bounces_the_message(server: ServerProcess, sdk: AgentMail, sink: SinkServer) -> None:
    inbox_id = new_inbox(sdk)
    later_bounces, bystander = remote("dsn"), remote("bystander")
    sent = sdk.inboxes.messages.send(inbox_id, to=[later_bounces, bystander], subject="Accepted", text="Hi.")
    [transaction] = arrivals(sink, later_bounces)
    with_label(sdk, inbox_id, sent.message_id, "delivered")
    return_path = transaction.mail_from
    assert return_path.startswith("bounces=msg_")

    report = dsn_for(return_path, later_bounces, sent.message_id)
    local, domain = return_path.split("@")
    forged = f"{local[:-1]}{'1' if local.endswith('0') else '0'}@{domain}"  # a tag this server did not make
    with (
        smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10) as smtp,
        pytest.raises(smtplib.SMTPRecipientsRefused),
    ):
        smtp.sendmail("", [forged], dsn_for(forged, later_bounces, sent.message_id))
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10) as smtp:
        refused = smtp.sendmail("", [return_path], report)
    assert refused == {}

    bounced = with_label(sdk, inbox_id, sent.message_id, "bounced")
    assert "delivered" in bounced.labels  # the bystander still got it
    # The bounce is not filed as mail anywhere, and the bounced address is now suppressed.
    assert [m.message_id for m in sdk.inboxes.messages.list(inbox_id).messages] == [sent.message_id]
    expect_error(
        lambda: sdk.inboxes.messages.send(inbox_id, to=later_bounces, text="x", request_options=NO_RETRY),
        403,
        "message_rejected",
        MessageRejectedError,
    )


def test_dsn_naming_an_address_the_message_never_went_to_changes_nothing(
    server: ServerProcess, sdk: AgentMail, sink: SinkServer
) -> None:
    inbox_id = new_inbox(sdk)
    to, stranger = remote("real"), remote("stranger")
    sent = sdk.inboxes.messages.send(inbox_id, to=to, subject="Real", text="Hi.")
    [transaction] = arrivals(sink, to)
    with_label(sdk, inbox_id, sent.message_id, "delivered")
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10) as smtp:
        smtp.sendmail("", [transaction.mail_from], dsn_for(transaction.mail_from, stranger, sent.message_id))
    # A send to the stranger still goes out (it was not suppressed), and the first message is not bounced.
    again = sdk.inboxes.messages.send(inbox_id, to=stranger, subject="Stranger", text="Hi.")
    arrivals(sink, stranger)
    with_label(sdk, inbox_id, again.message_id, "delivered")
    assert "bounced" not in sdk.inboxes.messages.get(inbox_id, sent.message_id).labels


# --- idempotency ------------------------------------------------------------------------------------------------


def test_idempotency_key(sdk: AgentMail, sink: SinkServer) -> None:
    inbox_id = new_inbox(sdk)
    to = remote("idem")
    key = f"send-{uuid.uuid4().hex}"
    first = sdk.inboxes.messages.send(inbox_id, to=to, subject="Once", text="Only once.", idempotency_key=key)
    again = sdk.inboxes.messages.send(inbox_id, to=to, subject="Once", text="Only once.", idempotency_key=key)
    assert (again.message_id, again.thread_id) == (first.message_id, first.thread_id)

    error = expect_error(
        lambda: sdk.inboxes.messages.send(
            inbox_id, to=to, subject="Once", text="Different.", idempotency_key=key, request_options=NO_RETRY
        ),
        409,
        "conflict",
        ConflictError,
    )
    assert "Idempotency-Key" in error["message"]
    # The same key from another inbox of the organization is a different request too (keys are org-scoped).
    other = new_inbox(sdk)
    expect_error(
        lambda: sdk.inboxes.messages.send(
            other, to=to, subject="Once", text="Only once.", idempotency_key=key, request_options=NO_RETRY
        ),
        409,
        "conflict",
        ConflictError,
    )
    # The same key on reply is a different endpoint: 409.
    expect_error(
        lambda: sdk.inboxes.messages.reply(
            inbox_id, first.message_id, text="Only once.", idempotency_key=key, request_options=NO_RETRY
        ),
        409,
        "conflict",
        ConflictError,
    )
    for bad_key in ["", "has space", "x" * 257, "a/b"]:
        expect_error(
            lambda bad_key=bad_key: sdk.inboxes.messages.send(  # type: ignore[misc]
                inbox_id,
                to=to,
                text="x",
                request_options={"max_retries": 0, "additional_headers": {"Idempotency-Key": bad_key}},
            ),
            400,
            "validation_error",
            ValidationError,
        )

    # A reply with its own key replays too.
    reply_key = f"reply-{uuid.uuid4().hex}"
    replies = [
        sdk.inboxes.messages.reply(inbox_id, first.message_id, text="Follow-up.", idempotency_key=reply_key)
        for _ in range(2)
    ]
    assert replies[0] == replies[1]

    # One message went out per distinct request: the sink saw exactly two transactions to `to`.
    arrivals(sink, to, 2)
    with_label(sdk, inbox_id, replies[0].message_id, "delivered")
    with_label(sdk, inbox_id, first.message_id, "delivered")
    assert len(received_so_far(sink, to)) == 2
    assert sorted(m.message_id for m in sdk.inboxes.messages.list(inbox_id).messages) == sorted(
        [first.message_id, replies[0].message_id]
    )
    assert sdk.inboxes.messages.list(other).count == 0


def test_concurrent_retries_with_one_key_send_once(sdk: AgentMail, sink: SinkServer) -> None:
    inbox_id = new_inbox(sdk)
    to = remote("race")
    key = f"race-{uuid.uuid4().hex}"
    results: list[tuple[str, str] | int] = []
    lock = threading.Lock()

    def attempt() -> None:
        try:
            sent = sdk.inboxes.messages.send(
                inbox_id, to=to, subject="Race", text="Once.", idempotency_key=key, request_options=NO_RETRY
            )
            outcome: tuple[str, str] | int = (sent.message_id, sent.thread_id)
        except ApiError as error:
            outcome = int(error.status_code or 0)
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    successes = {result for result in results if isinstance(result, tuple)}
    assert len(results) == 8
    assert len(successes) == 1, results
    assert all(result == 409 for result in results if not isinstance(result, tuple)), results
    [(message_id, _)] = successes
    assert [m.message_id for m in sdk.inboxes.messages.list(inbox_id).messages] == [message_id]
    with_label(sdk, inbox_id, message_id, "delivered")
    assert len(received_so_far(sink, to)) == 1


# --- refusals ----------------------------------------------------------------------------------------------------


def test_refused_sends_change_nothing(sdk: AgentMail, sink: SinkServer, web: str) -> None:
    inbox_id = new_inbox(sdk)
    to = remote("refused")
    send = sdk.inboxes.messages.send

    def refused(status: int, code: str, kind: type[ApiError] = ApiError, **fields: Any) -> dict[str, Any]:
        return expect_error(lambda: send(inbox_id, request_options=NO_RETRY, **fields), status, code, kind)

    refused(422, "unprocessable", text="nobody to send to")
    refused(422, "unprocessable", to=[], cc=[], bcc=[], text="empty lists")
    many = [f"r{n}-{to}" for n in range(51)]
    body = refused(422, "unprocessable", to=many[:20], cc=many[20:40], bcc=many[40:], text="51")
    assert "50" in body["message"]
    refused(400, "validation_error", ValidationError, to=to, headers={"X-Bad": "one\r\nBcc: evil@example.org"})
    refused(400, "validation_error", ValidationError, to=to, headers={"X-Bad": "line\nbreak"})
    refused(400, "validation_error", ValidationError, to=to, headers={"Message-ID": "<mine@example.org>"})
    refused(400, "validation_error", ValidationError, to=to, text="x", track_opens=True)
    refused(400, "validation_error", ValidationError, to="not an address", text="x")
    refused(400, "validation_error", ValidationError, to=to, labels=["sent"], text="x")
    missing = refused(
        403,
        "message_rejected",
        MessageRejectedError,
        to=to,
        text="x",
        attachments=[SendAttachment(url=f"{web}/missing.pdf")],
    )
    assert missing["message"]

    sdk.inboxes.update(inbox_id, status="paused")
    refused(403, "message_rejected", MessageRejectedError, to=to, text="paused")
    sdk.inboxes.update(inbox_id, status="active")

    assert sdk.inboxes.messages.list(inbox_id).count == 0
    assert sdk.inboxes.threads.list(inbox_id).count == 0

    # After all that, one good send with a URL attachment goes out, and it is the only one.
    ok = send(inbox_id, to=to, subject="By URL", attachments=[SendAttachment(url=f"{web}/report.pdf")])
    [transaction] = arrivals(sink, to)
    wire = parsed(transaction.raw)
    assert wire["Message-ID"].strip() == ok.message_id
    [part] = [part for part in wire.walk() if part.get_content_disposition() == "attachment"]
    assert part.get_payload(decode=True) == PDF
    assert part.get_content_type() == "application/pdf"
    assert part.get_filename() == "report.pdf"
    copy = sdk.inboxes.messages.get(inbox_id, ok.message_id)
    assert [(a.filename, a.size) for a in copy.attachments or []] == [("report.pdf", len(PDF))]
    with_label(sdk, inbox_id, ok.message_id, "delivered")
    assert len(received_so_far(sink, to)) == 1


def test_attachment_urls_follow_redirects_and_take_the_served_name(sdk: AgentMail, sink: SinkServer, web: str) -> None:
    inbox_id = new_inbox(sdk)
    to = remote("fetch")
    sent = sdk.inboxes.messages.send(
        inbox_id,
        to=to,
        text="Two files.",
        attachments=[
            SendAttachment(url=f"{web}/moved", filename="renamed.pdf"),
            SendAttachment(url=f"{web}/download?id=7"),
        ],
    )
    [transaction] = arrivals(sink, to)
    wire = parsed(transaction.raw)
    assert wire["Message-ID"].strip() == sent.message_id
    files = {p.get_filename(): (p.get_content_type(), p.get_payload(decode=True)) for p in wire.iter_attachments()}
    assert files == {
        "renamed.pdf": ("application/pdf", PDF),
        "q3 totals.csv": ("text/csv", b"quarter,total\r\nq3,42\r\n"),
    }
    expect_error(
        lambda: sdk.inboxes.messages.send(
            inbox_id, to=to, text="x", attachments=[SendAttachment(url=f"{web}/loop")], request_options=NO_RETRY
        ),
        403,
        "message_rejected",
        MessageRejectedError,
    )
    assert sdk.inboxes.messages.list(inbox_id).count == 1


def test_reply_to_unknown_message_is_404(sdk: AgentMail) -> None:
    inbox_id = new_inbox(sdk)
    for call in (
        lambda: sdk.inboxes.messages.reply(inbox_id, "<nope@example.org>", text="x", request_options=NO_RETRY),
        lambda: sdk.inboxes.messages.reply_all(inbox_id, "<nope@example.org>", text="x", request_options=NO_RETRY),
        lambda: sdk.inboxes.messages.forward(
            inbox_id, "<nope@example.org>", to=remote(), text="x", request_options=NO_RETRY
        ),
    ):
        expect_error(call, 404, "not_found")


# --- a server of its own: a short retry window and a small fetch budget -----------------------------------------


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def strict(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[AgentMail, SinkServer]]:
    """A server that gives up on temporary failures after 3 s and fetches at most 800 bytes of attachments."""
    with SinkServer() as own_sink:
        base = outbound_env(own_sink)
        env = {
            **base,
            # An internationalised domain, routed by its A-label (the only form an envelope without SMTPUTF8 has).
            "POSTROOM_MX_OVERRIDES": f"{base['POSTROOM_MX_OVERRIDES']},xn--mnchen-3ya.example={own_sink.address}",
            "POSTROOM_DELIVERY_RETRY_WINDOW_SECONDS": "3",
            "POSTROOM_ATTACHMENT_FETCH_MAX_BYTES": "800",
        }
        data_dir = tmp_path_factory.mktemp(f"strict-{request.param}")
        with running_server(request.param, data_dir, extra_env=env) as process:
            yield AgentMail(api_key=process.api_key, environment=environment(process)), own_sink


def test_temporary_failures_past_the_window_bounce_without_suppressing(strict: tuple[AgentMail, SinkServer]) -> None:
    sdk, sink = strict
    inbox_id = new_inbox(sdk)
    busy = remote("busy")
    sink.script_rcpt(busy, "451 4.2.1 mailbox busy", always=True)
    sent = sdk.inboxes.messages.send(inbox_id, to=busy, subject="Busy", text="x")
    with_label(sdk, inbox_id, sent.message_id, "delayed")
    bounced = with_label(sdk, inbox_id, sent.message_id, "bounced")
    assert "delayed" not in bounced.labels
    assert len([1 for address, _ in list(sink.rcpt_log) if address.lower() == busy]) >= 2  # it was retried
    # A transient bounce says nothing about the address: the next message to it is accepted and, once the
    # mailbox takes mail again, delivered.
    sink.clear()
    again = sdk.inboxes.messages.send(inbox_id, to=busy, subject="Busy again", text="x", request_options=NO_RETRY)
    with_label(sdk, inbox_id, again.message_id, "delivered")
    [transaction] = arrivals(sink, busy)
    assert parsed(transaction.raw)["Message-ID"].strip() == again.message_id


@pytest.mark.parametrize(
    ("stage", "reply"),
    [("rcpt", "552 5.2.2 mailbox full"), ("data", "554 5.7.1 message content rejected")],
)
def test_permanent_failures_about_the_message_do_not_suppress(
    strict: tuple[AgentMail, SinkServer], stage: str, reply: str
) -> None:
    sdk, sink = strict
    sink.clear()
    inbox_id = new_inbox(sdk)
    to = remote("full")
    if stage == "rcpt":
        sink.script_rcpt(to, reply)
    else:
        sink.script_data(reply)
    sent = sdk.inboxes.messages.send(inbox_id, to=to, subject="Refused", text="x")
    bounced = with_label(sdk, inbox_id, sent.message_id, "bounced")
    assert "delivered" not in bounced.labels
    assert received_so_far(sink, to) == []
    again = sdk.inboxes.messages.send(inbox_id, to=to, subject="Try again", text="x", request_options=NO_RETRY)
    with_label(sdk, inbox_id, again.message_id, "delivered")
    [transaction] = arrivals(sink, to)
    assert parsed(transaction.raw)["Message-ID"].strip() == again.message_id


def test_internationalised_domains_go_out_as_a_labels(strict: tuple[AgentMail, SinkServer]) -> None:
    sdk, sink = strict
    inbox_id = new_inbox(sdk)
    local = unique("idn")
    sent = sdk.inboxes.messages.send(inbox_id, to=f"{local}@münchen.example", subject="IDN", text="x")
    [transaction] = arrivals(sink, f"{local}@xn--mnchen-3ya.example")
    assert transaction.rcpt_tos == [f"{local}@xn--mnchen-3ya.example"]
    assert [a.addr_spec for a in parsed(transaction.raw)["To"].addresses] == [f"{local}@xn--mnchen-3ya.example"]
    with_label(sdk, inbox_id, sent.message_id, "delivered")


def test_attachment_urls_over_the_fetch_budget_are_rejected(strict: tuple[AgentMail, SinkServer], web: str) -> None:
    sdk, sink = strict
    inbox_id = new_inbox(sdk)
    to = remote("budget")
    assert len(PDF) < 800 < 2 * len(PDF)
    sdk.inboxes.messages.send(inbox_id, to=to, text="one fits", attachments=[SendAttachment(url=f"{web}/report.pdf")])
    expect_error(
        lambda: sdk.inboxes.messages.send(
            inbox_id,
            to=to,
            text="two do not",
            attachments=[SendAttachment(url=f"{web}/report.pdf"), SendAttachment(url=f"{web}/report.pdf")],
            request_options=NO_RETRY,
        ),
        403,
        "message_rejected",
        MessageRejectedError,
    )
    # Inline content does not count against the URL budget.
    sdk.inboxes.messages.send(
        inbox_id, to=to, text="inline", attachments=[SendAttachment(content=b64(PDF * 3), filename="big.pdf")]
    )
    assert sdk.inboxes.messages.list(inbox_id).count == 2
    arrivals(sink, to, 2)


CRASH_COUNT = 20


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_queued_sends_survive_kill_9(tmp_path: Path, backend: str) -> None:
    """Sends answered 200 whose delivery is still pending survive a ``kill -9``: the restarted server delivers
    each exactly once (the first server's next hop only ever answered 421, so nothing had gone out)."""
    database: AbstractContextManager[str | None] = postgres_database() if backend == "postgres" else nullcontext()
    with SinkServer() as own_sink, GreetingRefuser() as refuser, database as database_url:
        # A short lease, so a job claimed by the killed process comes due again quickly.
        refusing = {
            **outbound_env(own_sink),
            "POSTROOM_MX_OVERRIDES": f"example.org=127.0.0.1:{refuser.port}",
            "POSTROOM_DELIVERY_LEASE_SECONDS": "2",
        }
        first = ServerProcess(tmp_path / "data", database_url=database_url, extra_env=refusing).start()
        try:
            sdk = AgentMail(api_key=first.api_key, environment=environment(first))
            inbox_id = new_inbox(sdk)
            sent: list[tuple[str, str]] = []  # (recipient, message_id); the n-th carries "n.pdf"
            for n in range(CRASH_COUNT):
                to = remote(f"crash{n}")
                attachment = SendAttachment(content=b64(PDF), filename=f"{n}.pdf")
                response = sdk.inboxes.messages.send(
                    inbox_id, to=to, subject=f"Crash {n}", text="x", attachments=[attachment]
                )
                sent.append((to, response.message_id))
            with_label(sdk, inbox_id, sent[-1][1], "delayed")  # the worker tried the last one, and failed
            assert refuser.connections > 0
            assert first.process is not None
            first.process.kill()
            first.process.wait(timeout=10)
        finally:
            first.stop()

        env = {**outbound_env(own_sink), "POSTROOM_DELIVERY_LEASE_SECONDS": "2"}
        second = ServerProcess(tmp_path / "data", database_url=database_url, extra_env=env)
        second.api_key = first.api_key  # a restarted server never prints a key again
        second.start()
        try:
            sdk = AgentMail(api_key=second.api_key, environment=environment(second))
            for n, (to, message_id) in enumerate(sent):
                [copy] = arrivals(own_sink, to)
                assert parsed(copy.raw)["Message-ID"].strip() == message_id
                assert [p.get_filename() for p in parsed(copy.raw).iter_attachments()] == [f"{n}.pdf"]
                assert dkim_verifies(sdk, copy.raw)
                delivered = with_label(sdk, inbox_id, message_id, "delivered")
                assert "delayed" not in delivered.labels
            assert sdk.inboxes.messages.list(inbox_id, limit=100).count == CRASH_COUNT
            assert len(own_sink.messages) == CRASH_COUNT
        finally:
            second.stop()


# --- the async client -------------------------------------------------------------------------------------------


async def test_async_send_and_reply(async_sdk: AsyncAgentMail, sdk: AgentMail, sink: SinkServer) -> None:
    created = await async_sdk.inboxes.create(request=CreateInboxRequest(username=unique("async")))
    inbox_id = created.inbox_id
    to = remote("async")
    sent = await async_sdk.inboxes.messages.send(inbox_id, to=to, subject="Async hello", text="Hi from asyncio.")
    reply = await async_sdk.inboxes.messages.reply(inbox_id, sent.message_id, text="And a follow-up.")
    assert reply.thread_id == sent.thread_id
    await expect_async_error(
        lambda: async_sdk.inboxes.messages.send(inbox_id, text="x", request_options=NO_RETRY), 422, "unprocessable"
    )

    mail = arrivals(sink, to, 2)
    by_id = {parsed(m.raw)["Message-ID"].strip(): parsed(m.raw) for m in mail}
    assert set(by_id) == {sent.message_id, reply.message_id}
    # A reply to one's own sent message goes to the original recipients.
    assert [a.addr_spec for a in by_id[reply.message_id]["To"].addresses] == [to]
    assert by_id[reply.message_id]["Subject"] == "Re: Async hello"
    assert by_id[reply.message_id]["In-Reply-To"].strip() == sent.message_id
    thread = await async_sdk.inboxes.threads.get(inbox_id, sent.thread_id)
    assert [m.message_id for m in thread.messages] == [sent.message_id, reply.message_id]
    with_label(sdk, inbox_id, reply.message_id, "delivered")


# --- the npm SDK -------------------------------------------------------------------------------------------------

NODE_DIR = Path(__file__).parent / "node"


def test_npm_sdk_sends_and_replies(server: ServerProcess, sdk: AgentMail, sink: SinkServer) -> None:
    if not (NODE_DIR / "node_modules" / "agentmail").is_dir():
        pytest.fail(f"{NODE_DIR}/node_modules/agentmail is missing: run `make test` (it runs `npm ci` there)")
    node = shutil.which("node")
    if node is None:
        pytest.fail("`node` is not on PATH: install Node.js 18+ and run `make test`")
    to = remote("node")
    env = {**os.environ, "POSTROOM_BASE_URL": server.base_url, "POSTROOM_API_KEY": server.api_key, "POSTROOM_TO": to}
    result = subprocess.run(
        [node, "send.mjs"], cwd=NODE_DIR, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, f"node exited {result.returncode}\n{result.stdout}\n{result.stderr}"
    out = json.loads(result.stdout.strip().splitlines()[-1])

    sent, reply = out["sent"], out["reply"]
    assert out["replayed"] == sent
    assert out["conflict"] == "409 conflict"
    assert out["noRecipients"] == "422 unprocessable"
    assert reply["threadId"] == sent["threadId"]
    assert out["replyInReplyTo"] == sent["messageId"]
    assert out["replySubject"] == "Re: From Node"
    assert "sent" in out["replyLabels"]

    mail = arrivals(sink, to, 2)
    by_id = {parsed(m.raw)["Message-ID"].strip(): parsed(m.raw) for m in mail}
    assert set(by_id) == {sent["messageId"], reply["messageId"]}
    first = by_id[sent["messageId"]]
    assert first["X-Node-Sdk"] == "yes"
    assert [(a.display_name, a.addr_spec) for a in first["From"].addresses] == [("Node Agent", out["inboxId"])]
    assert {p.get_filename(): p.get_payload(decode=True) for p in first.iter_attachments()} == {
        "note.txt": b"node bytes"
    }
    assert by_id[reply["messageId"]]["In-Reply-To"].strip() == sent["messageId"]
    assert dkim_verifies(sdk, mail[0].raw)
    copy = sdk.inboxes.messages.get(out["inboxId"], sent["messageId"])
    assert "node" in copy.labels
