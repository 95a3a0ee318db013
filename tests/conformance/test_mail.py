"""Reading received mail through the official SDK: messages, threads (org/pod/inbox), labels, batches, downloads.

Mail arrives over real SMTP (smtplib) into fresh inboxes on a real ``postroom serve``, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import base64
import smtplib
import uuid
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses
from functools import partial
from urllib.parse import quote

import httpx
from agentmail import AgentMail, AsyncAgentMail
from agentmail.errors import NotFoundError, ValidationError
from agentmail.inboxes import CreateInboxRequest
from agentmail.messages import MessageItem
from agentmail.threads import ThreadItem

from tests.conformance.helpers import NO_RETRY, expect_async_error, expect_error, unique, walk
from tests.support.server import ServerProcess
from tests.support.trust import split_verdict

SYSTEM_LABELS = [
    "received",
    "sent",
    "delivered",
    "bounced",
    "complained",
    "delayed",
    "rejected",
    "opened",
    "scheduled",
    "spam",
    "blocked",
    "unauthenticated",
]
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4 + b"\x00\xff\r\n.\r\n"


# --- delivery helpers (also used by test_mail_isolation) ----------------------------------------------------------


def new_inbox(sdk: AgentMail, pod_id: str | None = None) -> str:
    if pod_id is not None:
        return str(sdk.pods.inboxes.create(pod_id, username=unique("mail")).inbox_id)
    return str(sdk.inboxes.create(request=CreateInboxRequest(username=unique("mail"))).inbox_id)


def new_message_id() -> str:
    return f"<{uuid.uuid4().hex}@example.org>"


def compose(
    to: str,
    *,
    subject: str = "Hello",
    sender: str = "Ann Example <ann@example.org>",
    body: str = "Hello agent.",
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[str, bytes]:
    """A simple CRLF text/plain message; returns its Message-ID and raw bytes."""
    message_id = message_id or new_message_id()
    lines = [f"From: {sender}", f"To: {to}", f"Subject: {subject}", f"Message-ID: {message_id}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    raw = ("\r\n".join(lines) + "\r\n\r\n" + body.replace("\n", "\r\n") + "\r\n").encode()
    return message_id, raw


def send_raw(server: ServerProcess, raw: bytes, to: list[str], envelope_from: str | None = None) -> None:
    """Deliver over SMTP; the envelope sender is the From address, as a sender's own server would set it."""
    if envelope_from is None:
        [(_, envelope_from)] = getaddresses([str(BytesHeaderParser(policy=compat32).parsebytes(raw)["From"])])
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10) as smtp:
        refused = smtp.sendmail(envelope_from, to, raw)
    assert refused == {}


def deliver(
    server: ServerProcess,
    inbox_id: str,
    *,
    subject: str = "Hello",
    sender: str = "Ann Example <ann@example.org>",
    body: str = "Hello agent.",
    headers: dict[str, str] | None = None,
) -> str:
    """Compose, deliver over SMTP and return the Message-ID (= the API message_id)."""
    message_id, raw = compose(inbox_id, subject=subject, sender=sender, body=body, headers=headers)
    send_raw(server, raw, [inbox_id])
    return message_id


def rich_message(inbox_id: str, message_id: str) -> bytes:
    """multipart/mixed[alternative[plain, html], image/png attachment] with threading and custom headers."""
    boundary, alt = f"mix-{uuid.uuid4().hex}", f"alt-{uuid.uuid4().hex}"
    encoded = base64.encodebytes(PNG).decode().replace("\n", "\r\n")
    return (
        "From: Ann Example <ann@example.org>\r\n"
        f"To: {inbox_id}, Dan <dan@example.org>\r\n"
        "Cc: Carl <carl@example.org>\r\n"
        "Reply-To: replies@example.org\r\n"
        "Subject: Quarterly report\r\n"
        f"Message-ID: {message_id}\r\n"
        "In-Reply-To: <parent@example.org>\r\n"
        "References: <root@example.org> <parent@example.org>\r\n"
        "Date: Mon, 06 Jan 2025 10:00:00 +0000\r\n"
        "X-Conformance: yes\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'
        f"--{boundary}\r\n"
        f'Content-Type: multipart/alternative; boundary="{alt}"\r\n\r\n'
        f"--{alt}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        "New numbers attached.\r\n\r\n"
        "On Sun, Jan 5, 2025 at 9:00 AM Bob <bob@example.org> wrote:\r\n"
        "> Send the numbers please.\r\n"
        f"--{alt}\r\n"
        "Content-Type: text/html; charset=utf-8\r\n\r\n"
        "<p>New numbers attached.</p>\r\n"
        f"--{alt}--\r\n"
        f"--{boundary}\r\n"
        'Content-Type: image/png; name="chart.png"\r\n'
        'Content-Disposition: attachment; filename="chart.png"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n"
        f"{encoded}"
        f"--{boundary}--\r\n"
    ).encode()


def all_messages(sdk: AgentMail, inbox_id: str, **filters: object) -> list[MessageItem]:
    def fetch(token: str | None) -> tuple[list[MessageItem], str | None]:
        page = sdk.inboxes.messages.list(inbox_id, page_token=token, **filters)  # type: ignore[arg-type,unused-ignore]
        assert page.count == len(page.messages)
        return list(page.messages), page.next_page_token

    return walk(fetch)


def ids(items: list[MessageItem]) -> list[str]:
    return [item.message_id for item in items]


def fetch_status(url: str) -> int:
    return httpx.get(url, timeout=10).status_code


# --- get -----------------------------------------------------------------------------------------------------------


def test_get_message_fields_downloads_and_list_item(server: ServerProcess, sdk: AgentMail) -> None:
    inbox_id = new_inbox(sdk)
    message_id = new_message_id()
    raw = rich_message(inbox_id, message_id)
    send_raw(server, raw, [inbox_id])

    message = sdk.inboxes.messages.get(inbox_id, message_id)
    assert message.message_id == message_id
    assert message.inbox_id == inbox_id
    assert message.thread_id.startswith("thd_")
    assert message.from_ == "Ann Example <ann@example.org>"
    assert message.to == [inbox_id, "Dan <dan@example.org>"]
    assert message.cc == ["Carl <carl@example.org>"]
    assert message.reply_to == ["replies@example.org"]
    assert message.subject == "Quarterly report"
    assert message.labels == ["received", "unread"]
    assert "New numbers attached." in (message.text or "")
    assert "> Send the numbers please." in (message.text or "")
    assert (message.extracted_text or "").strip() == "New numbers attached."
    assert "<p>New numbers attached.</p>" in (message.html or "")
    assert message.in_reply_to == "<parent@example.org>"
    assert message.references == ["<root@example.org>", "<parent@example.org>"]
    headers = {name.lower(): value for name, value in (message.headers or {}).items()}
    assert headers.get("x-conformance") == "yes"
    assert headers["authentication-results"].startswith("localhost;")  # the verdict Postroom wrote on top
    assert "spf=pass" in headers["authentication-results"]
    assert message.timestamp.tzinfo is not None
    assert abs((datetime.now(UTC) - message.timestamp).total_seconds()) < 120
    [attachment] = message.attachments or []
    assert attachment.filename == "chart.png"
    assert attachment.content_type == "image/png"
    assert attachment.size == len(PNG)
    assert attachment.attachment_id

    item = sdk.inboxes.messages.list(inbox_id).messages[0]
    assert item.message_id == message_id
    assert item.from_ == message.from_
    assert item.to == message.to
    assert item.cc == message.cc
    assert item.subject == message.subject
    assert item.size == message.size
    assert item.labels == message.labels
    assert [a.attachment_id for a in item.attachments or []] == [attachment.attachment_id]
    assert "text" not in item.model_dump()
    assert "html" not in item.model_dump()

    link = sdk.inboxes.messages.get_attachment(inbox_id, message_id, attachment.attachment_id)
    assert link.attachment_id == attachment.attachment_id
    assert link.filename == "chart.png"
    assert link.size == len(PNG)
    assert link.expires_at > datetime.now(UTC)
    download = httpx.get(link.download_url, timeout=10)  # no API key: the signed URL is the grant
    assert download.status_code == 200
    assert download.content == PNG

    for via_thread in (
        sdk.inboxes.threads.get_attachment(inbox_id, message.thread_id, attachment.attachment_id),
        sdk.threads.get_attachment(message.thread_id, attachment.attachment_id),
    ):
        assert httpx.get(via_thread.download_url, timeout=10).content == PNG

    raw_link = sdk.inboxes.messages.get_raw(inbox_id, message_id)
    assert raw_link.message_id == message_id
    assert raw_link.expires_at > datetime.now(UTC)
    stored = httpx.get(raw_link.download_url, timeout=10).content
    assert raw_link.size == message.size == len(stored)  # what is stored: the verdict, then the sender's bytes
    assert split_verdict(stored)[1] == raw


def test_unknown_ids_are_404(sdk: AgentMail) -> None:
    inbox_id = new_inbox(sdk)
    missing = new_message_id()
    expect_error(lambda: sdk.inboxes.messages.get(inbox_id, missing, request_options=NO_RETRY), 404, kind=NotFoundError)
    expect_error(lambda: sdk.inboxes.messages.get_raw(inbox_id, missing, request_options=NO_RETRY), 404)
    expect_error(lambda: sdk.inboxes.messages.update(inbox_id, missing, add_labels="x", request_options=NO_RETRY), 404)
    expect_error(lambda: sdk.inboxes.messages.delete(inbox_id, missing, request_options=NO_RETRY), 404)
    expect_error(lambda: sdk.inboxes.threads.get(inbox_id, "thd_missing", request_options=NO_RETRY), 404)
    expect_error(lambda: sdk.threads.get("thd_missing", request_options=NO_RETRY), 404)
    expect_error(lambda: sdk.inboxes.messages.list(f"nobody-{uuid.uuid4().hex}@x.y", request_options=NO_RETRY), 404)


# --- list filters --------------------------------------------------------------------------------------------------


def test_list_order_paging_and_time_filters(server: ServerProcess, sdk: AgentMail) -> None:
    inbox_id = new_inbox(sdk)
    sent = [deliver(server, inbox_id, subject=f"number {n}") for n in range(4)]
    newest_first = list(reversed(sent))

    assert ids(all_messages(sdk, inbox_id)) == newest_first
    assert ids(all_messages(sdk, inbox_id, limit=1)) == newest_first
    assert ids(all_messages(sdk, inbox_id, ascending=True)) == sent
    assert ids(all_messages(sdk, inbox_id, ascending=True, limit=3)) == sent
    first_page = sdk.inboxes.messages.list(inbox_id, limit=2)
    assert first_page.count == 2
    assert first_page.next_page_token

    timestamps = {item.message_id: item.timestamp for item in all_messages(sdk, inbox_id)}
    assert len(set(timestamps.values())) == 4
    pivot = timestamps[sent[1]]
    assert ids(all_messages(sdk, inbox_id, after=pivot)) == newest_first[:3]  # after is inclusive
    assert ids(all_messages(sdk, inbox_id, before=pivot)) == [sent[0]]  # before is exclusive
    assert ids(all_messages(sdk, inbox_id, after=pivot, before=timestamps[sent[3]])) == [sent[2], sent[1]]
    assert ids(all_messages(sdk, inbox_id, after=pivot, ascending=True, limit=1)) == sent[1:]


def test_list_label_and_substring_filters(server: ServerProcess, sdk: AgentMail) -> None:
    inbox_id = new_inbox(sdk)
    one = deliver(server, inbox_id, subject="Invoice March", sender="Ann <ann@alpha.example>")
    two = deliver(server, inbox_id, subject="Invoice April", sender="Bob <bob@beta.example>")
    three = deliver(
        server, inbox_id, subject="Lunch", sender="bob@beta.example", headers={"Cc": "Carl <carl@gamma.example>"}
    )

    sdk.inboxes.messages.update(inbox_id, one, add_labels=["Alpha"])
    sdk.inboxes.messages.update(inbox_id, two, add_labels=["alpha", "beta"])
    assert ids(all_messages(sdk, inbox_id, labels=["alpha"])) == [two, one]
    assert ids(all_messages(sdk, inbox_id, labels=["alpha", "beta"])) == [two]  # AND
    assert ids(all_messages(sdk, inbox_id, labels=["ALPHA"])) == [two, one]  # stored and matched lower-case
    assert ids(all_messages(sdk, inbox_id, labels=["received", "unread"])) == [three, two, one]
    assert ids(all_messages(sdk, inbox_id, labels=["nothing-has-this"])) == []

    assert ids(all_messages(sdk, inbox_id, subject=["invoice"])) == [two, one]
    assert ids(all_messages(sdk, inbox_id, subject=["Invoice", "apr"])) == [two]
    assert ids(all_messages(sdk, inbox_id, from_=["beta.example"])) == [three, two]
    assert ids(all_messages(sdk, inbox_id, from_=["ann@"])) == [one]
    assert ids(all_messages(sdk, inbox_id, to=["carl@gamma"])) == [three]  # to matches cc too
    assert ids(all_messages(sdk, inbox_id, to=[inbox_id.split("@")[0]])) == [three, two, one]
    assert ids(all_messages(sdk, inbox_id, from_=["bob"], subject=["lunch"], limit=1)) == [three]


def test_paging_tokens_limits_and_batch_validation(server: ServerProcess, sdk: AgentMail) -> None:
    inbox_id = new_inbox(sdk)
    first, second = deliver(server, inbox_id, subject="a"), deliver(server, inbox_id, subject="b")
    page = sdk.inboxes.messages.list(inbox_id, limit=1)
    token = page.next_page_token
    assert token
    expect_error(
        lambda: sdk.inboxes.threads.list(inbox_id, page_token=token, request_options=NO_RETRY), 400, "validation_error"
    )
    expect_error(
        lambda: sdk.inboxes.messages.list(inbox_id, page_token=token, labels=["unread"], request_options=NO_RETRY),
        400,
        "validation_error",
    )
    expect_error(lambda: sdk.inboxes.messages.list(inbox_id, limit=0, request_options=NO_RETRY), 400)
    clamped = sdk.inboxes.messages.list(inbox_id, limit=1000)
    assert clamped.limit == 100
    assert [m.message_id for m in clamped.messages] == [second, first]
    thread_id = sdk.inboxes.messages.get(inbox_id, first).thread_id
    expect_error(lambda: sdk.inboxes.threads.get(inbox_id, thread_id, limit=0, request_options=NO_RETRY), 400)

    too_many = [f"<{n}@example.org>" for n in range(501)]
    expect_error(lambda: sdk.inboxes.messages.batch_get(inbox_id, message_ids=too_many, request_options=NO_RETRY), 400)
    expect_error(lambda: sdk.inboxes.messages.batch_get(inbox_id, message_ids=[], request_options=NO_RETRY), 400)
    expect_error(
        lambda: sdk.inboxes.messages.batch_update(
            inbox_id, message_ids=too_many[:51], add_labels="x", request_options=NO_RETRY
        ),
        400,
    )
    expect_error(
        lambda: sdk.inboxes.messages.batch_update(inbox_id, message_ids=[first], request_options=NO_RETRY), 400
    )
    assert len(sdk.inboxes.messages.batch_get(inbox_id, message_ids=too_many[:500]).messages) == 0


def test_percent_encoded_ids_reach_the_same_message(server: ServerProcess, sdk: AgentMail) -> None:
    """The TS SDK percent-encodes path parameters; the Python SDK sends ``<``, ``@`` and ``>`` raw."""
    inbox_id = new_inbox(sdk)
    message_id = deliver(server, inbox_id, subject="encoded")
    url = f"{server.base_url}/v0/inboxes/{quote(inbox_id, safe='')}/messages/{quote(message_id, safe='')}"
    response = httpx.get(url, headers={"Authorization": f"Bearer {server.api_key}"}, timeout=10)
    assert response.status_code == 200
    assert response.json()["message_id"] == message_id


# --- labels --------------------------------------------------------------------------------------------------------


def test_label_updates_read_trash_and_system_labels(server: ServerProcess, sdk: AgentMail) -> None:
    inbox_id = new_inbox(sdk)
    kept = deliver(server, inbox_id, subject="keep")
    binned = deliver(server, inbox_id, subject="bin")

    read = sdk.inboxes.messages.update(inbox_id, kept, remove_labels="unread")
    assert read.message_id == kept
    assert sorted(read.labels) == ["received"]
    assert sdk.inboxes.messages.get(inbox_id, kept).labels == ["received"]
    assert ids(all_messages(sdk, inbox_id, labels=["unread"])) == [binned]
    again = sdk.inboxes.messages.update(inbox_id, kept, add_labels=["unread", "Follow-Up"], remove_labels=["x"])
    assert sorted(again.labels) == ["follow-up", "received", "unread"]
    both = sdk.inboxes.messages.update(inbox_id, kept, add_labels="tmp", remove_labels="tmp")  # remove wins
    assert "tmp" not in both.labels

    sdk.inboxes.messages.update(inbox_id, binned, add_labels="trash")
    assert ids(all_messages(sdk, inbox_id)) == [kept]
    assert ids(all_messages(sdk, inbox_id, include_trash=True)) == [binned, kept]
    assert ids(all_messages(sdk, inbox_id, labels=["trash"], include_trash=True)) == [binned]
    threads = sdk.inboxes.threads.list(inbox_id).threads
    assert [t.subject for t in threads] == ["keep"]
    assert sorted(t.subject or "" for t in sdk.inboxes.threads.list(inbox_id, include_trash=True).threads) == [
        "bin",
        "keep",
    ]
    restored = sdk.inboxes.messages.update(inbox_id, binned, remove_labels=["trash"])
    assert "trash" not in restored.labels
    assert ids(all_messages(sdk, inbox_id)) == [binned, kept]

    for label in SYSTEM_LABELS:
        expect_error(
            partial(sdk.inboxes.messages.update, inbox_id, kept, add_labels=[label], request_options=NO_RETRY),
            400,
            kind=ValidationError,
        )
    for label in ["received", "sent", "delivered", "opened", "blocked"]:
        expect_error(
            partial(sdk.inboxes.messages.update, inbox_id, kept, remove_labels=label, request_options=NO_RETRY),
            400,
        )
    # "not spam": the unrestricted key may remove spam (a no-op here), but never add it.
    assert "spam" not in sdk.inboxes.messages.update(inbox_id, kept, remove_labels=["spam"]).labels
    assert sorted(sdk.inboxes.messages.get(inbox_id, kept).labels) == ["follow-up", "received", "unread"]


def test_thread_label_updates(server: ServerProcess, sdk: AgentMail) -> None:
    inbox_id = new_inbox(sdk)
    root = deliver(server, inbox_id, subject="Plan")
    reply = deliver(server, inbox_id, subject="Re: Plan", headers={"In-Reply-To": root, "References": root})
    thread_id = sdk.inboxes.messages.get(inbox_id, root).thread_id
    assert sdk.inboxes.messages.get(inbox_id, reply).thread_id == thread_id

    sdk.inboxes.messages.update(inbox_id, reply, remove_labels="unread")
    assert sorted(sdk.inboxes.threads.get(inbox_id, thread_id).labels) == ["received", "unread"]  # union
    sdk.inboxes.messages.update(inbox_id, reply, add_labels="unread")
    updated = sdk.inboxes.threads.update(inbox_id, thread_id, add_labels=["Project-X"], remove_labels=["unread"])
    assert updated.thread_id == thread_id
    assert "project-x" in updated.labels
    assert "unread" not in updated.labels
    for message_id in (root, reply):
        assert sorted(sdk.inboxes.messages.get(inbox_id, message_id).labels) == ["project-x", "received"]
    assert [t.thread_id for t in sdk.inboxes.threads.list(inbox_id, labels=["project-x"]).threads] == [thread_id]
    assert sdk.inboxes.threads.list(inbox_id, labels=["unread"]).threads == []
    for label in ["received", "sent", "spam"]:
        expect_error(
            partial(sdk.inboxes.threads.update, inbox_id, thread_id, add_labels=[label], request_options=NO_RETRY),
            400,
        )

    sdk.threads.update(thread_id, add_labels=["trash"])
    assert sdk.inboxes.threads.list(inbox_id).threads == []
    assert ids(all_messages(sdk, inbox_id)) == []
    assert [t.thread_id for t in sdk.inboxes.threads.list(inbox_id, include_trash=True).threads] == [thread_id]
    sdk.inboxes.threads.update(inbox_id, thread_id, remove_labels=["trash"])
    assert ids(all_messages(sdk, inbox_id)) == [reply, root]


# --- batches -------------------------------------------------------------------------------------------------------


def test_batch_get_keeps_request_order_and_omits_missing(server: ServerProcess, sdk: AgentMail) -> None:
    inbox_id = new_inbox(sdk)
    first, second, third = (deliver(server, inbox_id, subject=f"batch {n}", body=f"body {n}") for n in range(3))
    missing = new_message_id()
    result = sdk.inboxes.messages.batch_get(inbox_id, message_ids=[third, missing, first, second])
    assert result.count == 3
    assert result.limit == 500
    assert [m.message_id for m in result.messages] == [third, first, second]
    for message in result.messages:
        assert message.text is None
        assert message.html is None
        assert message.extracted_text is None
        assert message.subject
        assert message.labels == ["received", "unread"]
        assert message.inbox_id == inbox_id
    assert sdk.inboxes.messages.batch_get(inbox_id, message_ids=[missing]).messages == []

    other_inbox = new_inbox(sdk)
    foreign = deliver(server, other_inbox, subject="elsewhere")
    assert [m.message_id for m in sdk.inboxes.messages.batch_get(inbox_id, message_ids=[foreign, first]).messages] == [
        first
    ]
    sdk.inboxes.messages.update(inbox_id, second, add_labels="trash")  # the org key may read trash
    trashed = sdk.inboxes.messages.batch_get(inbox_id, message_ids=[second, first]).messages
    assert [(m.message_id, "trash" in m.labels) for m in trashed] == [(second, True), (first, False)]
    expect_error(
        lambda: sdk.inboxes.messages.batch_get(inbox_id, message_ids=[first, first], request_options=NO_RETRY), 400
    )


def test_batch_update(server: ServerProcess, sdk: AgentMail) -> None:
    inbox_id = new_inbox(sdk)
    first, second, third = (deliver(server, inbox_id, subject=f"bulk {n}") for n in range(3))
    missing = new_message_id()
    result = sdk.inboxes.messages.batch_update(
        inbox_id, message_ids=[second, missing, first], add_labels=["Done"], remove_labels="unread"
    )
    assert result.count == 2
    assert result.limit == 50
    assert [u.message_id for u in result.updates] == [second, first]
    assert all(sorted(u.labels) == ["done", "received"] for u in result.updates)
    assert sorted(sdk.inboxes.messages.get(inbox_id, first).labels) == ["done", "received"]
    assert sdk.inboxes.messages.get(inbox_id, third).labels == ["received", "unread"]
    assert ids(all_messages(sdk, inbox_id, labels=["done"])) == [second, first]
    expect_error(
        lambda: sdk.inboxes.messages.batch_update(
            inbox_id, message_ids=[first], add_labels=["sent"], request_options=NO_RETRY
        ),
        400,
    )
    assert sorted(sdk.inboxes.messages.get(inbox_id, first).labels) == ["done", "received"]


# --- deletes -------------------------------------------------------------------------------------------------------


def test_message_delete_updates_thread_and_revokes_downloads(server: ServerProcess, sdk: AgentMail) -> None:
    inbox_id = new_inbox(sdk)
    root = new_message_id()
    send_raw(server, rich_message(inbox_id, root), [inbox_id])
    reply = deliver(server, inbox_id, subject="Re: Quarterly report", headers={"In-Reply-To": root})
    message = sdk.inboxes.messages.get(inbox_id, root)
    thread_id = message.thread_id
    assert sdk.inboxes.threads.get(inbox_id, thread_id).message_count == 2
    attachment_url = sdk.inboxes.messages.get_attachment(
        inbox_id, root, (message.attachments or [])[0].attachment_id
    ).download_url
    raw_url = sdk.inboxes.messages.get_raw(inbox_id, root).download_url
    assert fetch_status(attachment_url) == 200
    assert fetch_status(raw_url) == 200

    assert sdk.inboxes.messages.delete(inbox_id, root) is None
    expect_error(lambda: sdk.inboxes.messages.get(inbox_id, root, request_options=NO_RETRY), 404)
    expect_error(lambda: sdk.inboxes.messages.delete(inbox_id, root, request_options=NO_RETRY), 404)
    assert fetch_status(attachment_url) == 404
    assert fetch_status(raw_url) == 404
    thread = sdk.inboxes.threads.get(inbox_id, thread_id)
    assert thread.message_count == 1
    assert [m.message_id for m in thread.messages] == [reply]
    assert thread.last_message_id == reply
    assert thread.size == thread.messages[0].size
    assert thread.subject == "Re: Quarterly report"
    assert thread.recipients == [inbox_id]
    assert ids(all_messages(sdk, inbox_id)) == [reply]
    assert thread.attachments in (None, [])

    sdk.inboxes.messages.delete(inbox_id, reply)
    assert sdk.inboxes.threads.list(inbox_id).threads == []
    expect_error(lambda: sdk.inboxes.threads.get(inbox_id, thread_id, request_options=NO_RETRY), 404)


def test_thread_delete_removes_every_message(server: ServerProcess, sdk: AgentMail) -> None:
    inbox_id = new_inbox(sdk)
    root = new_message_id()
    send_raw(server, rich_message(inbox_id, root), [inbox_id])
    reply = deliver(server, inbox_id, subject="Re: report", headers={"References": root})
    bystander = deliver(server, inbox_id, subject="unrelated")
    message = sdk.inboxes.messages.get(inbox_id, root)
    attachment_url = sdk.inboxes.threads.get_attachment(
        inbox_id, message.thread_id, (message.attachments or [])[0].attachment_id
    ).download_url
    raw_url = sdk.inboxes.messages.get_raw(inbox_id, reply).download_url

    assert sdk.inboxes.threads.delete(inbox_id, message.thread_id) is None
    expect_error(lambda: sdk.inboxes.threads.get(inbox_id, message.thread_id, request_options=NO_RETRY), 404)
    expect_error(lambda: sdk.threads.delete(message.thread_id, request_options=NO_RETRY), 404)
    for gone in (root, reply):
        expect_error(partial(sdk.inboxes.messages.get, inbox_id, gone, request_options=NO_RETRY), 404)
    assert fetch_status(attachment_url) == 404
    assert fetch_status(raw_url) == 404
    assert ids(all_messages(sdk, inbox_id)) == [bystander]
    assert len(sdk.inboxes.threads.list(inbox_id).threads) == 1


# --- threads -------------------------------------------------------------------------------------------------------


def test_thread_get_pages_messages_newest_page_first(server: ServerProcess, sdk: AgentMail) -> None:
    inbox_id = new_inbox(sdk)
    chain: list[str] = []
    for _ in range(4):
        headers = {"In-Reply-To": chain[-1], "References": " ".join(chain)} if chain else {}
        chain.append(deliver(server, inbox_id, subject="Re: chain" if chain else "chain", headers=headers))
    thread_id = sdk.inboxes.messages.get(inbox_id, chain[0]).thread_id

    whole = sdk.inboxes.threads.get(inbox_id, thread_id)
    assert whole.thread_id == thread_id
    assert whole.inbox_id == inbox_id
    assert whole.message_count == 4
    assert whole.count == 4
    assert [m.message_id for m in whole.messages] == chain  # ascending within the page
    assert whole.next_page_token is None
    assert whole.last_message_id == chain[-1]
    assert whole.subject == "chain"
    assert whole.senders == ["Ann Example <ann@example.org>"]
    assert whole.size == sum(m.size for m in whole.messages)
    assert all(m.text for m in whole.messages)  # thread messages are full messages

    pages: list[list[str]] = []
    token: str | None = None
    while True:
        page = sdk.inboxes.threads.get(inbox_id, thread_id, limit=1, page_token=token)
        assert page.count == len(page.messages) == 1
        assert page.message_count == 4
        pages.append([m.message_id for m in page.messages])
        token = page.next_page_token
        if not token:
            break
    assert pages == [[chain[3]], [chain[2]], [chain[1]], [chain[0]]]  # first page = newest
    two = sdk.inboxes.threads.get(inbox_id, thread_id, limit=3)
    assert [m.message_id for m in two.messages] == chain[1:]
    rest = sdk.inboxes.threads.get(inbox_id, thread_id, limit=3, page_token=two.next_page_token)
    assert [m.message_id for m in rest.messages] == chain[:1]
    assert rest.next_page_token is None


def test_thread_lists_at_org_pod_and_inbox_scope(server: ServerProcess, sdk: AgentMail) -> None:
    pod = sdk.pods.create(name=unique("mail-pod"))
    other_pod = sdk.pods.create(name=unique("mail-pod-other"))
    inbox_id = new_inbox(sdk, pod.pod_id)
    outside = new_inbox(sdk, other_pod.pod_id)
    tag = uuid.uuid4().hex[:10]
    older = deliver(server, inbox_id, subject=f"{tag} older", sender="Zed <zed@zulu.example>")
    newer = deliver(
        server, inbox_id, subject=f"{tag} newer", sender="Yan <yan@yankee.example>", headers={"Cc": "x@xray.example"}
    )
    elsewhere = deliver(server, outside, subject=f"{tag} elsewhere")
    thread_of = {
        mid: sdk.inboxes.messages.get(box, mid).thread_id for mid, box in [(older, inbox_id), (newer, inbox_id)]
    }
    thread_of[elsewhere] = sdk.inboxes.messages.get(outside, elsewhere).thread_id

    def thread_ids(items: list[ThreadItem]) -> list[str]:
        return [t.thread_id for t in items]

    expected = [thread_of[newer], thread_of[older]]
    assert thread_ids(sdk.inboxes.threads.list(inbox_id).threads) == expected
    assert thread_ids(sdk.inboxes.threads.list(inbox_id, ascending=True).threads) == expected[::-1]
    assert thread_ids(sdk.pods.threads.list(pod.pod_id).threads) == expected
    assert thread_ids(sdk.pods.threads.list(other_pod.pod_id).threads) == [thread_of[elsewhere]]
    assert thread_ids(sdk.threads.list(subject=[tag]).threads) == [thread_of[elsewhere], *expected]
    assert thread_ids(sdk.threads.list(subject=[tag], limit=1).threads) == [thread_of[elsewhere]]

    assert thread_ids(sdk.inboxes.threads.list(inbox_id, senders=["zulu"]).threads) == [thread_of[older]]
    assert thread_ids(sdk.pods.threads.list(pod.pod_id, recipients=["xray.example"]).threads) == [thread_of[newer]]
    assert thread_ids(sdk.threads.list(subject=[tag, "older"]).threads) == [thread_of[older]]
    assert thread_ids(sdk.inboxes.threads.list(inbox_id, labels=["received", "unread"]).threads) == expected

    item = sdk.inboxes.threads.list(inbox_id).threads[1]
    assert item.senders == ["Zed <zed@zulu.example>"]
    assert item.recipients == [inbox_id]
    assert item.labels == ["received", "unread"] or sorted(item.labels) == ["received", "unread"]
    assert item.message_count == 1
    assert item.last_message_id == older
    pivot = sdk.inboxes.threads.get(inbox_id, thread_of[newer]).timestamp
    assert thread_ids(sdk.inboxes.threads.list(inbox_id, after=pivot).threads) == [thread_of[newer]]
    assert thread_ids(sdk.inboxes.threads.list(inbox_id, before=pivot).threads) == [thread_of[older]]

    for thread in (
        sdk.threads.get(thread_of[newer]),
        sdk.pods.threads.get(pod.pod_id, thread_of[newer]),
        sdk.inboxes.threads.get(inbox_id, thread_of[newer]),
    ):
        assert [m.message_id for m in thread.messages] == [newer]
    expect_error(lambda: sdk.pods.threads.get(other_pod.pod_id, thread_of[newer], request_options=NO_RETRY), 404)
    expect_error(lambda: sdk.inboxes.threads.get(outside, thread_of[newer], request_options=NO_RETRY), 404)
    assert "seen" in sdk.pods.threads.update(pod.pod_id, thread_of[older], add_labels=["seen"]).labels
    expect_error(
        lambda: sdk.pods.threads.update(other_pod.pod_id, thread_of[older], add_labels=["x"], request_options=NO_RETRY),
        404,
    )
    sdk.pods.threads.delete(pod.pod_id, thread_of[older])
    assert thread_ids(sdk.inboxes.threads.list(inbox_id).threads) == [thread_of[newer]]


# --- async client --------------------------------------------------------------------------------------------------


async def test_async_client_reads_mail(server: ServerProcess, sdk: AgentMail, async_sdk: AsyncAgentMail) -> None:
    inbox_id = new_inbox(sdk)
    message_id = new_message_id()
    raw = rich_message(inbox_id, message_id)
    send_raw(server, raw, [inbox_id])

    listed = await async_sdk.inboxes.messages.list(inbox_id, labels=["unread"])
    assert [m.message_id for m in listed.messages] == [message_id]
    message = await async_sdk.inboxes.messages.get(inbox_id, message_id)
    assert message.subject == "Quarterly report"
    assert message.cc == ["Carl <carl@example.org>"]
    raw_link = await async_sdk.inboxes.messages.get_raw(inbox_id, message_id)
    assert split_verdict(httpx.get(raw_link.download_url, timeout=10).content)[1] == raw
    attachment_id = (message.attachments or [])[0].attachment_id
    link = await async_sdk.threads.get_attachment(message.thread_id, attachment_id)
    assert httpx.get(link.download_url, timeout=10).content == PNG
    thread = await async_sdk.inboxes.threads.get(inbox_id, message.thread_id)
    assert [m.message_id for m in thread.messages] == [message_id]
    updated = await async_sdk.inboxes.messages.update(inbox_id, message_id, remove_labels=["unread"])
    assert updated.labels == ["received"]
    batch = await async_sdk.inboxes.messages.batch_get(inbox_id, message_ids=[message_id])
    assert [m.labels for m in batch.messages] == [["received"]]
    await expect_async_error(
        lambda: async_sdk.inboxes.messages.update(inbox_id, message_id, add_labels="sent", request_options=NO_RETRY),
        400,
    )
    await async_sdk.inboxes.threads.delete(inbox_id, message.thread_id)
    await expect_async_error(
        lambda: async_sdk.inboxes.messages.get(inbox_id, message_id, request_options=NO_RETRY), 404
    )
