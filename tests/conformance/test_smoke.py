"""The official SDK reaches a real server on both databases: create, get and list one inbox."""

from __future__ import annotations

from agentmail import AgentMail
from agentmail.inboxes import CreateInboxRequest


def test_create_get_list(sdk: AgentMail) -> None:
    inbox = sdk.inboxes.create(request=CreateInboxRequest(display_name="Smoke"))
    assert sdk.inboxes.get(inbox.inbox_id).display_name == "Smoke"
    assert inbox.inbox_id in {item.inbox_id for item in sdk.inboxes.list(limit=100).inboxes}
