"""Every Python snippet of the AgentMail "Inboxes" docs page runs against ``postroom serve`` and prints what it says.

Lines the page gets wrong for SDK 2.0.18 are corrected, each with a comment quoting what the page had.
"""

from __future__ import annotations

import ast
import os
import uuid

import pytest
from agentmail import AgentMail
from agentmail.api_keys import CreateBearerApiKeyRequest
from agentmail.errors import NotFoundError
from agentmail.inboxes import CreateInboxRequest

from tests.conformance.conftest import client_for, environment
from tests.conformance.helpers import DEFAULT_DOMAIN, NO_RETRY, address
from tests.support.server import ServerProcess


def printed(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return capsys.readouterr().out.splitlines()


def test_core_capabilities(server: ServerProcess, capsys: pytest.CaptureFixture[str]) -> None:
    my_name = f"my_name-{uuid.uuid4().hex[:8]}"
    client_for(server, server.api_key).inboxes.create(request=CreateInboxRequest(username=my_name))

    # --- snippet ---
    # Initialize the client
    # Page: client = AgentMail(api_key="YOUR_API_KEY") — the environment points the SDK at this server instead.
    client = AgentMail(api_key=server.api_key, environment=environment(server))

    # --- Create an Inbox ---
    # Creates a new inbox with a default agentmail.to domain (here: the server's default domain)
    new_inbox = client.inboxes.create()
    print(f"Created Inbox: {new_inbox.inbox_id}")

    # --- Retrieve an Inbox ---
    # Gets a specific inbox by its ID
    # Page: inbox_id = 'my_name@domain.com' — that address does not exist here; the one created above does.
    retrieved_inbox = client.inboxes.get(inbox_id=address(my_name))
    print(f"Retrieved Inbox: {retrieved_inbox.inbox_id}")

    # --- List Inboxes ---
    # Lists all inboxes in your organization
    all_inboxes = client.inboxes.list()

    print(f"Total Inboxes: {all_inboxes.count}")
    # --- end of snippet ---

    lines = printed(capsys)
    assert len(lines) == 3
    assert lines[0] == f"Created Inbox: {new_inbox.inbox_id}"
    assert lines[0].endswith(f"@{DEFAULT_DOMAIN}")
    assert lines[1] == f"Retrieved Inbox: {address(my_name)}"
    # `count` is the number of inboxes on this page (default page size 50), which the page calls "Total".
    total = int(lines[2].removeprefix("Total Inboxes: "))
    assert total == len(all_inboxes.inboxes)
    assert 2 <= total <= 50


def test_metadata_and_updating_metadata(server: ServerProcess, capsys: pytest.CaptureFixture[str]) -> None:
    client = AgentMail(api_key=server.api_key, environment=environment(server))
    # The page uses the fixed username "support-agent"; a suffix keeps the shared test server's addresses unique.
    username = f"support-agent-{uuid.uuid4().hex[:8]}"

    # --- snippet: Metadata ---
    # Attach metadata when creating an inbox; values may be a string, int, float, or boolean
    # Page: client.inboxes.create(username="support-agent", metadata={...}) — SDK 2.0.18's create takes no such
    # keyword arguments, only request=CreateInboxRequest(...).
    inbox = client.inboxes.create(
        request=CreateInboxRequest(
            username=username,
            metadata={
                "tenant_id": "acme",  # string
                "seat_count": 5,  # int
                "monthly_spend": 19.99,  # float
                "active": True,  # boolean
            },
        )
    )

    # Read it back from any inbox response
    print(inbox.metadata)
    # --- end of snippet ---

    (line,) = printed(capsys)
    shown = ast.literal_eval(line)
    # SDK 2.0.18 types metadata values as Union[str, float, bool], so it prints the wire's int 5 as 5.0.
    assert shown == {"tenant_id": "acme", "seat_count": 5, "monthly_spend": 19.99, "active": True}
    assert shown["active"] is True
    assert shown["tenant_id"] == "acme"

    # --- snippet: Updating metadata ---
    # Page: inbox_id="support-agent@agentmail.to" — here the inbox created above on the server's default domain.
    support_agent = address(username)

    # Add or overwrite keys; the keys you omit stay unchanged
    client.inboxes.update(
        inbox_id=support_agent,
        metadata={"tier": "enterprise"},
    )
    after_add = client.inboxes.get(support_agent).metadata
    assert after_add == {
        "tenant_id": "acme",
        "seat_count": 5,
        "monthly_spend": 19.99,
        "active": True,
        "tier": "enterprise",
    }

    # Remove a single key
    client.inboxes.update(
        inbox_id=support_agent,
        metadata={"tier": None},
    )
    after_remove = client.inboxes.get(support_agent).metadata
    assert after_remove == {"tenant_id": "acme", "seat_count": 5, "monthly_spend": 19.99, "active": True}

    # Clear all metadata
    client.inboxes.update(
        inbox_id=support_agent,
        metadata=None,
    )
    # --- end of snippet ---
    assert client.inboxes.get(support_agent).metadata is None
    assert printed(capsys) == []


def test_inbox_scoped_api_keys(server: ServerProcess, capsys: pytest.CaptureFixture[str]) -> None:
    client = AgentMail(api_key=server.api_key, environment=environment(server))
    new_inbox = client.inboxes.create()  # from the "Core Capabilities" snippet
    other_inbox = client.inboxes.create()

    # --- snippet ---
    # Create a key scoped to one inbox
    # Page: client.inboxes.api_keys.create(new_inbox.inbox_id, name="support-agent-key") — SDK 2.0.18 takes the
    # body as request=CreateBearerApiKeyRequest(...), not as a name= keyword.
    key = client.inboxes.api_keys.create(
        new_inbox.inbox_id, request=CreateBearerApiKeyRequest(name="support-agent-key")
    )

    # The full key is only returned once
    print(key.api_key)
    # --- end of snippet ---

    (line,) = printed(capsys)
    assert line.startswith("pr_")  # Postroom's key format (spec §8); the hosted service's keys start with am_
    scoped = client_for(server, line)
    assert [inbox.inbox_id for inbox in scoped.inboxes.list().inboxes] == [new_inbox.inbox_id]
    with pytest.raises(NotFoundError):
        scoped.inboxes.get(other_inbox.inbox_id, request_options=NO_RETRY)
    listed = client.inboxes.api_keys.list(new_inbox.inbox_id)
    assert [item.name for item in listed.api_keys] == ["support-agent-key"]
    assert "api_key" not in listed.api_keys[0].model_dump()  # "only returned once"


def test_copy_for_cursor(
    server: ServerProcess, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTMAIL_API_KEY", server.api_key)

    # --- snippet ---
    # (The API reference in this snippet's docstring has the same two mistakes: `inboxes.create(username?, ...)`
    # and `inboxes.api_keys.create(inbox_id, name)` both take request=... in SDK 2.0.18.)
    from dotenv import load_dotenv  # python-dotenv, installed with uvicorn[standard]

    load_dotenv()
    # Page: client = AgentMail(api_key=os.getenv("AGENTMAIL_API_KEY")) — plus the environment of this server.
    client = AgentMail(api_key=os.getenv("AGENTMAIL_API_KEY"), environment=environment(server))

    # Create (client_id for idempotent retries)
    # Page: client.inboxes.create(client_id="my-inbox-v1") — SDK 2.0.18 needs request=CreateInboxRequest(...).
    inbox = client.inboxes.create(request=CreateInboxRequest(client_id="my-inbox-v1"))

    # Get, list
    retrieved = client.inboxes.get(inbox.inbox_id)
    all_inboxes = client.inboxes.list(limit=20)
    print(f"Total: {all_inboxes.count}")
    # --- end of snippet ---

    (line,) = printed(capsys)
    total = int(line.removeprefix("Total: "))
    assert 1 <= total <= 20
    assert total == len(all_inboxes.inboxes)
    assert retrieved.inbox_id == inbox.inbox_id
    assert retrieved.client_id == "my-inbox-v1"
    # "client_id for idempotent retries": running the snippet again yields the same inbox.
    assert client.inboxes.create(request=CreateInboxRequest(client_id="my-inbox-v1")).inbox_id == inbox.inbox_id
    # "Errors: SDK raises on 4xx/5xx."
    with pytest.raises(NotFoundError):
        client.inboxes.get(f"nobody-{uuid.uuid4().hex[:8]}@{DEFAULT_DOMAIN}", request_options=NO_RETRY)
