"""Sending drives the event system: signed webhooks get message.sent, .delivered, .bounced and the recipient
inbox's message.received; the label log records the sent message's lifecycle labels (spec §4.1, §3.14)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from agentmail import AgentMail
from agentmail.inboxes import CreateInboxRequest

from tests.support.receiver import Received, running_receiver
from tests.support.sink import SinkServer

DEADLINE = 30.0


def events_of(received: list[Received], inbox_id: str) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for item in received:
        event = item.event
        payload = next(value for key, value in event.items() if isinstance(value, dict))
        if payload.get("inbox_id") == inbox_id:
            found.setdefault(event["event_type"], []).append(event)
    return found


def delivered_to(found: dict[str, list[dict[str, Any]]]) -> list[str]:
    return sorted(r for event in found.get("message.delivered", []) for r in event["delivery"]["recipients"])


def wait_for_types(
    receiver: Any,
    inbox_id: str,
    wanted: set[str],
    deadline: float = DEADLINE,
    delivered: list[str] | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """The inbox's events once all ``wanted`` types arrived (and ``message.delivered`` named all of ``delivered``:
    recipients at different hosts are delivered, and reported, separately)."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        found = events_of(receiver.accepted(), inbox_id)
        if wanted <= set(found) and (delivered is None or delivered_to(found) == sorted(delivered)):
            return found
        time.sleep(0.05)
    raise AssertionError(f"events for {inbox_id}: {sorted(events_of(receiver.accepted(), inbox_id))}, wanted {wanted}")


def test_sends_reach_webhooks_as_signed_lifecycle_events(sdk: AgentMail, sink: SinkServer) -> None:
    sender = sdk.inboxes.create(request=CreateInboxRequest(username=f"evt-{uuid.uuid4().hex[:8]}")).inbox_id
    local = sdk.inboxes.create(request=CreateInboxRequest(username=f"evt-{uuid.uuid4().hex[:8]}")).inbox_id
    good = f"ok-{uuid.uuid4().hex[:8]}@example.org"
    gone = f"gone-{uuid.uuid4().hex[:8]}@example.org"
    sink.script_rcpt(gone, "550 5.1.1 no such user", always=True)
    with running_receiver() as receiver:
        webhook = sdk.webhooks.create(
            url=receiver.url,
            event_types=["message.sent", "message.delivered", "message.bounced", "message.received"],
            inbox_ids=[sender, local],
        )
        receiver.secrets.append(webhook.secret)
        sent = sdk.inboxes.messages.send(sender, to=[good, local], cc=gone, subject="Lifecycle", text="hello")
        wanted = {"message.sent", "message.delivered", "message.bounced"}
        found = wait_for_types(receiver, sender, wanted, delivered=[good, local])
        received = wait_for_types(receiver, local, {"message.received"})["message.received"]
        # The local and the remote recipient are delivered by separate jobs: each has its own delivered event.
        end = time.monotonic() + DEADLINE
        while len([r for e in found["message.delivered"] for r in e["delivery"]["recipients"]]) < 2:
            if time.monotonic() > end:
                pytest.fail(
                    f"both recipients' message.delivered not seen in {DEADLINE} s: {found['message.delivered']}"
                )
            time.sleep(0.05)
            found = events_of(receiver.accepted(), sender)
        sdk.webhooks.delete(webhook.webhook_id)

    assert all(item.verified_for == webhook.secret for item in receiver.accepted())
    [sent_event] = found["message.sent"]
    assert sent_event["type"] == "event"
    assert sent_event["send"]["message_id"] == sent.message_id
    assert sent_event["send"]["thread_id"] == sent.thread_id
    assert sorted(sent_event["send"]["recipients"]) == sorted([good, local, gone])
    assert delivered_to(found) == sorted([good, local])
    [bounce] = found["message.bounced"]
    assert bounce["bounce"]["message_id"] == sent.message_id
    assert bounce["bounce"]["type"] == "Permanent"
    assert bounce["bounce"]["recipients"] == [{"address": gone, "status": "5.1.1"}]
    [arrived] = received
    assert arrived["message"]["message_id"] == sent.message_id
    assert arrived["message"]["labels"] == ["received", "unread"]
    assert arrived["thread"]["inbox_id"] == local

    log = sdk.inboxes.events.list(sender, ascending=True).events
    mine = [(event.event_type, event.label) for event in log if event.message_id == sent.message_id]
    assert ("label.added", "sent") in mine
    assert ("label.added", "delivered") in mine
    assert ("label.added", "bounced") in mine
