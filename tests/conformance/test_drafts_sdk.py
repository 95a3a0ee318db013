"""Drafts through the official SDK (spec §3.6) against a real ``postroom serve`` on SQLite and PostgreSQL.

Every draft endpoint at every scope, a human-in-the-loop flow that ends at the sink SMTP server, and scheduled drafts
that go out by themselves, also when the server was restarted between scheduling and sending.
"""

from __future__ import annotations

import base64
import email
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import TypeVar

import httpx
from agentmail import AgentMail, SendAttachment
from agentmail.environment import AgentMailEnvironment
from agentmail.errors import ConflictError, NotFoundError, ValidationError

from postroom.runtime import build
from tests.conformance.conftest import client_for, outbound_env
from tests.conformance.helpers import NO_RETRY, expect_error, unique
from tests.conformance.test_mail import deliver, new_inbox
from tests.conformance.test_mail_isolation import inbox_key
from tests.conftest import make_settings
from tests.support.clock import TestClock
from tests.support.inprocess import serving
from tests.support.server import ServerProcess, free_port
from tests.support.sink import Received, SinkServer

T = TypeVar("T")
DEADLINE = 30.0  # only how long to wait for the server's worker, never an assertion about speed


def remote(prefix: str = "draft") -> str:
    return f"{unique(prefix)}@example.org"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def eventually(probe: Callable[[], T | None], what: str) -> T:
    deadline = time.monotonic() + DEADLINE
    while (value := probe()) is None:
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)
    return value


def arrival(sink: SinkServer, address: str) -> Received:
    def probe() -> Received | None:
        found = [m for m in list(sink.messages) if address.lower() in (r.lower() for r in m.rcpt_tos)]
        return found[0] if found else None

    return eventually(probe, f"a message to {address} at the sink")


def parsed(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=default_policy)
    assert isinstance(message, EmailMessage)
    return message


def test_every_draft_endpoint_at_every_scope(server: ServerProcess, sdk: AgentMail) -> None:
    inbox_id = new_inbox(sdk)
    pod_id = sdk.inboxes.get(inbox_id).pod_id
    draft = sdk.inboxes.drafts.create(
        inbox_id,
        to=["bob@example.org"],
        subject="Quarterly",
        text="Numbers attached.",
        labels=["Review"],
        attachments=[SendAttachment(filename="q.csv", content_type="text/csv", content=b64(b"a,b\n1,2\n"))],
        client_id=unique("client"),
    )
    assert (draft.inbox_id, draft.labels, draft.subject, draft.preview) == (
        inbox_id,
        ["review"],
        "Quarterly",
        "Numbers attached.",
    )
    [attachment] = draft.attachments or []
    assert sdk.inboxes.drafts.create(inbox_id, client_id=draft.client_id).draft_id == draft.draft_id

    assert sdk.inboxes.drafts.get(inbox_id, draft.draft_id).text == "Numbers attached."
    assert sdk.drafts.get(draft.draft_id).subject == "Quarterly"
    assert sdk.pods.drafts.get(pod_id, draft.draft_id).subject == "Quarterly"
    for listed in (
        sdk.inboxes.drafts.list(inbox_id, labels=["review"]),
        sdk.pods.drafts.list(pod_id, limit=100, labels=["review"]),
        sdk.drafts.list(limit=100, labels=["review"]),
    ):
        assert draft.draft_id in [item.draft_id for item in listed.drafts]
    assert sdk.inboxes.drafts.list(inbox_id, labels=["nope"]).count == 0
    assert sdk.inboxes.drafts.list(inbox_id, after=draft.updated_at + timedelta(seconds=1)).count == 0
    assert sdk.inboxes.drafts.list(inbox_id, before=draft.updated_at + timedelta(seconds=1)).count == 1

    for link in (
        sdk.inboxes.drafts.get_attachment(inbox_id, draft.draft_id, attachment.attachment_id),
        sdk.pods.drafts.get_attachment(pod_id, draft.draft_id, attachment.attachment_id),
        sdk.drafts.get_attachment(draft.draft_id, attachment.attachment_id),
    ):
        assert link.size == 8
        assert httpx.get(link.download_url).content == b"a,b\n1,2\n"

    updated = sdk.inboxes.drafts.update(
        inbox_id,
        draft.draft_id,
        subject=None,
        cc=["carol@example.org"],
        add_attachments=[SendAttachment(filename="n.txt", content=b64(b"note"))],
        remove_attachments=[attachment.attachment_id],
        add_labels=["later"],
        remove_labels=["review"],
    )
    assert updated.subject is None
    assert updated.cc == ["carol@example.org"]
    assert updated.to == ["bob@example.org"]
    assert [a.filename for a in updated.attachments or []] == ["n.txt"]
    assert updated.labels == ["later"]
    expect_error(
        lambda: sdk.inboxes.drafts.update(inbox_id, draft.draft_id, add_labels=["sent"], request_options=NO_RETRY),
        400,
        "validation_error",
        ValidationError,
    )

    sdk.inboxes.drafts.delete(inbox_id, draft.draft_id)
    expect_error(lambda: sdk.inboxes.drafts.get(inbox_id, draft.draft_id), 404, "not_found", NotFoundError)
    expect_error(lambda: sdk.drafts.get(draft.draft_id), 404, "not_found", NotFoundError)
    expect_error(
        lambda: sdk.inboxes.drafts.create(inbox_id, in_reply_to="<a@x>", forward_of="<a@x>"),
        400,
        "validation_error",
        ValidationError,
    )


def test_scoped_keys_see_only_their_drafts(server: ServerProcess, sdk: AgentMail) -> None:
    mine, theirs = new_inbox(sdk), new_inbox(sdk)
    draft = sdk.inboxes.drafts.create(theirs, subject="private")
    holder = client_for(server, inbox_key(sdk, mine))
    expect_error(lambda: holder.drafts.get(draft.draft_id), 404, "not_found", NotFoundError)
    expect_error(lambda: holder.inboxes.drafts.get(theirs, draft.draft_id), 404, "not_found", NotFoundError)
    assert draft.draft_id not in [item.draft_id for item in holder.drafts.list(limit=100).drafts]


def test_human_in_the_loop_draft_reaches_the_recipient(server: ServerProcess, sdk: AgentMail, sink: SinkServer) -> None:
    """An agent drafts a reply, a person edits it with their own key, and sends it."""
    inbox_id = new_inbox(sdk)
    customer = remote("customer")
    question = deliver(server, inbox_id, subject="Refund?", sender=f"Customer <{customer}>", body="Can I get one?")
    agent = client_for(server, inbox_key(sdk, inbox_id, draft_create=True, draft_read=True))
    person = client_for(server, inbox_key(sdk, inbox_id, draft_read=True, draft_update=True, draft_send=True))

    proposed = agent.inboxes.drafts.create(inbox_id, in_reply_to=question, text="No refunds, sorry.")
    assert (proposed.to, proposed.subject, proposed.in_reply_to) == (
        [f"Customer <{customer}>"],
        "Re: Refund?",
        question,
    )
    expect_error(
        lambda: agent.inboxes.drafts.send(inbox_id, proposed.draft_id, request_options=NO_RETRY),
        403,
        "missing_permission",
    )
    reviewed = person.inboxes.drafts.update(inbox_id, proposed.draft_id, text="Yes, refunded today.")
    assert reviewed.text == "Yes, refunded today."

    sent = person.inboxes.drafts.send(inbox_id, proposed.draft_id, add_labels="approved", idempotency_key=unique("k"))
    message = sdk.inboxes.messages.get(inbox_id, sent.message_id)
    assert message.labels[:2] == ["sent", "approved"]  # "delivered" follows once the sink has taken it
    assert message.in_reply_to == question
    expect_error(lambda: sdk.inboxes.drafts.get(inbox_id, proposed.draft_id), 404, "not_found", NotFoundError)

    wire = parsed(arrival(sink, customer).raw)
    assert wire["Subject"] == "Re: Refund?"
    assert wire["In-Reply-To"] == question
    assert wire["Message-ID"] == sent.message_id
    body = wire.get_body(("plain",))
    assert body is not None
    assert "Yes, refunded today." in body.get_content()


def test_drafts_send_idempotency_and_conflicts(server: ServerProcess, sdk: AgentMail) -> None:
    inbox_id = new_inbox(sdk)
    draft = sdk.inboxes.drafts.create(inbox_id, to=[remote()], subject="once")
    key = unique("key")
    first = sdk.inboxes.drafts.send(inbox_id, draft.draft_id, idempotency_key=key)
    again = sdk.inboxes.drafts.send(inbox_id, draft.draft_id, idempotency_key=key)
    assert (again.message_id, again.thread_id) == (first.message_id, first.thread_id)
    expect_error(
        lambda: sdk.inboxes.drafts.send(
            inbox_id, draft.draft_id, add_labels=["x"], idempotency_key=key, request_options=NO_RETRY
        ),
        409,
        "conflict",
        ConflictError,
    )
    expect_error(lambda: sdk.inboxes.drafts.send(inbox_id, draft.draft_id), 404, "not_found", NotFoundError)


def test_scheduled_draft_goes_out_by_itself(server: ServerProcess, sdk: AgentMail, sink: SinkServer) -> None:
    inbox_id = new_inbox(sdk)
    to = remote("scheduled")
    send_at = datetime.now(UTC) + timedelta(seconds=2)
    draft = sdk.inboxes.drafts.create(inbox_id, to=[to], subject="Later", text="Scheduled.", send_at=send_at)
    assert draft.send_status == "scheduled"
    assert "scheduled" in draft.labels
    assert draft.send_at is not None
    unscheduled = sdk.inboxes.drafts.create(inbox_id, to=[remote("never")], subject="Never", send_at=send_at)
    assert sdk.inboxes.drafts.update(inbox_id, unscheduled.draft_id, send_at=None).send_status is None

    wire = parsed(arrival(sink, to).raw)
    assert wire["Subject"] == "Later"
    assert datetime.now(UTC) >= send_at
    expect_error(lambda: sdk.inboxes.drafts.get(inbox_id, draft.draft_id), 404, "not_found", NotFoundError)
    sent = [m for m in sdk.inboxes.messages.list(inbox_id).messages if m.subject == "Later"]
    assert len(sent) == 1
    assert "sent" in sent[0].labels
    assert sdk.inboxes.drafts.get(inbox_id, unscheduled.draft_id).subject == "Never"


def test_scheduled_draft_survives_a_restart(tmp_path: Path, sink: SinkServer, database_url: str) -> None:
    """Scheduled, the server stopped, send_at passed (the test moves the clock), a new server starts and sends it."""
    clock = TestClock()
    settings = make_settings(
        database_url,
        tmp_path,
        api_port=free_port(),
        smtp_port=free_port(),
        mx_overrides=outbound_env(sink)["POSTROOM_MX_OVERRIDES"],
        scheduled_draft_poll_seconds=0.1,
    )
    to = remote("restart")
    first = build(settings, migrate=False, clock=clock)
    key = first.bootstrap.api_key
    assert key is not None
    try:
        with serving(first) as base_url:
            sdk = AgentMail(api_key=key, environment=AgentMailEnvironment(http=base_url, websockets=base_url))
            inbox_id = new_inbox(sdk)
            send_at = clock.now() + timedelta(hours=1)
            draft = sdk.inboxes.drafts.create(inbox_id, to=[to], subject="After restart", send_at=send_at)
    finally:
        first.close()
    clock.advance(hours=2)  # send_at passes while no server runs
    assert not [m for m in list(sink.messages) if to in m.rcpt_tos]

    second = build(settings, migrate=False, clock=clock)
    try:
        assert second.bootstrap.api_key is None  # the same organization, not a new one
        with serving(second) as base_url:
            wire = parsed(arrival(sink, to).raw)
            assert wire["Subject"] == "After restart"
            sdk = AgentMail(api_key=key, environment=AgentMailEnvironment(http=base_url, websockets=base_url))
            expect_error(lambda: sdk.inboxes.drafts.get(inbox_id, draft.draft_id), 404, "not_found", NotFoundError)
    finally:
        second.close()
