"""The inbox event log through the official SDK (spec §3.14): every label change, newest first, paginated."""

from __future__ import annotations

from agentmail import AgentMail
from agentmail.errors import NotFoundError
from agentmail.inboxes import CreateInboxRequest

from tests.conformance.helpers import NO_RETRY, expect_error, unique, walk
from tests.support.mail import send_mail
from tests.support.server import ServerProcess


def test_label_changes_are_logged_and_paginated(server: ServerProcess, sdk: AgentMail) -> None:
    inbox = sdk.inboxes.create(request=CreateInboxRequest(username=unique("log")))
    message_id = send_mail(server.smtp_port, inbox.inbox_id, subject="log me")
    sdk.inboxes.messages.update(inbox.inbox_id, message_id, add_labels=["important"], remove_labels=["unread"])
    sdk.inboxes.messages.update(inbox.inbox_id, message_id, add_labels=["important"])  # no change, nothing logged
    thread_id = sdk.inboxes.messages.get(inbox.inbox_id, message_id).thread_id
    sdk.inboxes.threads.update(inbox.inbox_id, thread_id, add_labels=["unread"])

    def page(token: str | None, ascending: bool = False) -> tuple[list[tuple[str, str]], str | None]:
        result = sdk.inboxes.events.list(inbox.inbox_id, limit=2, page_token=token, ascending=ascending)
        assert result.count == len(result.events)
        for event in result.events:
            assert event.inbox_id == inbox.inbox_id
            assert event.pod_id == inbox.pod_id
            assert event.message_id == message_id
            assert event.organization_id
            assert event.event_at is not None
        return [(event.event_type, event.label) for event in result.events], result.next_page_token

    oldest_first = walk(lambda token: page(token, ascending=True))
    assert sorted(oldest_first[:2]) == [("label.added", "received"), ("label.added", "unread")]
    assert sorted(oldest_first[2:4]) == [("label.added", "important"), ("label.removed", "unread")]
    assert oldest_first[4:] == [("label.added", "unread")]
    assert walk(page) == oldest_first[::-1]


def test_unknown_inbox_is_404(sdk: AgentMail) -> None:
    expect_error(
        lambda: sdk.inboxes.events.list("nobody@postroom.localhost", request_options=NO_RETRY),
        404,
        "not_found",
        NotFoundError,
    )
