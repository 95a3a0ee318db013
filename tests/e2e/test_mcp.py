"""The MCP server end to end: the official ``mcp`` client drives ``/mcp`` (streamable HTTP) and ``postroom mcp``
(stdio) against a real ``postroom serve``: mail arrives over SMTP, wait_for_message returns it, the reply reaches
a sink MX; an inbox key sees one inbox; bad arguments are tool errors."""

from __future__ import annotations

import asyncio
import base64
import email
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from agentmail import AsyncAgentMail
from agentmail.api_keys import CreateApiKeyResponse, CreateBearerApiKeyRequest
from agentmail.environment import AgentMailEnvironment
from agentmail.inboxes import CreateInboxRequest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult, TextContent

from tests.support.mail import send_mail
from tests.support.server import ServerProcess, running_server
from tests.support.sink import SinkServer

REMOTE = "example.net"
EXPECTED_TOOLS = {
    "list_inboxes",
    "get_inbox",
    "create_inbox",
    "delete_inbox",
    "list_threads",
    "get_thread",
    "get_attachment",
    "send_message",
    "reply_to_message",
    "forward_message",
    "update_message",
    "search_messages",
    "get_message",
    "create_draft",
    "update_draft",
    "send_draft",
    "list_domains",
    "wait_for_message",
}


@pytest.fixture
def sink() -> Iterator[SinkServer]:
    with SinkServer() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgres"])
def server(request: pytest.FixtureRequest, tmp_path: Path, sink: SinkServer) -> Iterator[ServerProcess]:
    env = {"POSTROOM_MX_OVERRIDES": f"{REMOTE}={sink.address}"}
    with running_server(str(request.param), tmp_path, extra_env=env) as process:
        yield process


def sdk(server: ServerProcess) -> AsyncAgentMail:
    return AsyncAgentMail(api_key=server.api_key, environment=AgentMailEnvironment(http=server.base_url, websockets=""))


@asynccontextmanager
async def http_session(server: ServerProcess, headers: dict[str, str]) -> AsyncIterator[Client]:
    async with (
        httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(60.0)) as http,
        Client(streamable_http_client(f"{server.base_url}/mcp", http_client=http)) as client,
    ):
        yield client


@asynccontextmanager
async def stdio_session(server: ServerProcess, api_key: str) -> AsyncIterator[Client]:
    env = {"POSTROOM_API_URL": server.base_url, "POSTROOM_API_KEY": api_key}
    parameters = StdioServerParameters(command=sys.executable, args=["-m", "postroom.cli", "mcp"], env=env)
    async with Client(parameters) as client:
        yield client


def text(result: CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, TextContent))


async def call(client: Client, tool: str, arguments: dict[str, Any]) -> CallToolResult:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, text(result)
    return result


async def receive_and_reply(client: Client, server: ServerProcess, sink: SinkServer, username: str) -> None:
    """Create an inbox, wait for mail sent to it over SMTP, reply, and see the reply at the remote MX."""
    tools = await client.list_tools()
    assert {tool.name for tool in tools.tools} >= EXPECTED_TOOLS
    assert all(tool.description for tool in tools.tools)
    created = await call(client, "create_inbox", {"username": username, "display_name": "Agent"})
    assert created.structured_content is not None
    inbox_id = created.structured_content["inbox_id"]
    assert inbox_id in text(created)

    listening = asyncio.Event()

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        listening.set()

    arguments = {"inbox_id": inbox_id, "sender": f"@{REMOTE}", "timeout_seconds": 120}
    waiting = asyncio.create_task(client.call_tool("wait_for_message", arguments, progress_callback=on_progress))
    await asyncio.wait_for(listening.wait(), 30)
    sent_id = await asyncio.to_thread(
        send_mail, server.smtp_port, inbox_id, "Quarterly numbers", "Can you send the numbers?\n", f"boss@{REMOTE}"
    )
    arrived = await asyncio.wait_for(waiting, 60)
    assert not arrived.is_error, text(arrived)
    summary = text(arrived)
    assert "Quarterly numbers" in summary
    assert f"boss@{REMOTE}" in summary
    assert "Can you send the numbers?" in summary
    assert arrived.structured_content is not None
    assert arrived.structured_content["message_id"] == sent_id

    thread = await call(
        client, "get_thread", {"inbox_id": inbox_id, "thread_id": arrived.structured_content["thread_id"]}
    )
    assert sent_id in text(thread)
    replied = await call(client, "reply_to_message", {"inbox_id": inbox_id, "message_id": sent_id, "text": "Here."})
    assert replied.structured_content is not None
    [delivered] = await asyncio.to_thread(sink.wait_for, 1, 30)
    assert delivered.rcpt_tos == [f"boss@{REMOTE}"]
    reply = email.message_from_bytes(delivered.raw)
    assert reply["In-Reply-To"] == sent_id
    assert "Here." in delivered.raw.decode(errors="replace")


async def test_streamable_http_receives_waits_and_replies(server: ServerProcess, sink: SinkServer) -> None:
    async with http_session(server, {"Authorization": f"Bearer {server.api_key}"}) as client:
        await receive_and_reply(client, server, sink, "http-agent")


async def test_an_attachment_sent_between_inboxes_is_read_as_text(server: ServerProcess) -> None:
    async with http_session(server, {"Authorization": f"Bearer {server.api_key}"}) as client:
        sender = (await call(client, "create_inbox", {"username": "sender"})).structured_content
        files = (await call(client, "create_inbox", {"username": "files"})).structured_content
        assert sender is not None
        assert files is not None
        since = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        notes = base64.b64encode("Line one\nLine two: ünïcode\n".encode()).decode()
        attachment = {"filename": "notes.txt", "content_type": "text/plain; charset=utf-8", "content": notes}
        await call(
            client,
            "send_message",
            {"inbox_id": sender["inbox_id"], "to": [files["inbox_id"]], "subject": "Notes", "text": "Attached.",
             "attachments": [attachment]},
        )  # fmt: skip
        arguments = {"inbox_id": files["inbox_id"], "since": since, "timeout_seconds": 60}
        arrived = await call(client, "wait_for_message", arguments)  # delivered locally before or after the call
        message = arrived.structured_content
        assert message is not None
        assert "notes.txt" in text(arrived)
        [found] = message["attachments"]
        read = await call(
            client,
            "get_attachment",
            {"inbox_id": files["inbox_id"], "thread_id": message["thread_id"], "attachment_id": found["attachment_id"]},
        )
        assert "Line two: ünïcode" in text(read)
        assert read.structured_content is not None
        assert read.structured_content["download_url"].startswith(server.base_url + "/downloads/")


async def test_stdio_receives_waits_and_replies(server: ServerProcess, sink: SinkServer) -> None:
    async with stdio_session(server, server.api_key) as client:
        await receive_and_reply(client, server, sink, "stdio-agent")


async def inbox_key(server: ServerProcess, inbox_id: str) -> str:
    created = await sdk(server).inboxes.api_keys.create(inbox_id, request=CreateBearerApiKeyRequest(name="agent"))
    assert isinstance(created, CreateApiKeyResponse)
    return created.api_key


async def test_an_inbox_key_reaches_only_its_inbox(server: ServerProcess) -> None:
    client = sdk(server)
    mine = await client.inboxes.create(request=CreateInboxRequest(username="mine"))
    other = await client.inboxes.create(request=CreateInboxRequest(username="other", display_name="Secret Name"))
    await asyncio.to_thread(send_mail, server.smtp_port, other.inbox_id, "private subject")
    key = await inbox_key(server, mine.inbox_id)
    async with http_session(server, {"x-api-key": key}) as session:
        listed = await call(session, "list_inboxes", {})
        assert mine.inbox_id in text(listed)
        assert other.inbox_id not in text(listed)
        for tool, arguments in (
            ("get_inbox", {"inbox_id": other.inbox_id}),
            ("list_threads", {"inbox_id": other.inbox_id}),
            ("search_messages", {"inbox_id": other.inbox_id, "q": "private"}),
            ("send_message", {"inbox_id": other.inbox_id, "to": [f"x@{REMOTE}"], "text": "hi"}),
            ("delete_inbox", {"inbox_id": other.inbox_id}),
        ):
            refused = await session.call_tool(tool, arguments)
            assert refused.is_error, tool
            assert "404" in text(refused)
            assert "Secret Name" not in text(refused)
            assert "private subject" not in text(refused)
    assert (await client.inboxes.get(other.inbox_id)).inbox_id == other.inbox_id  # nothing was deleted


async def test_stdio_inbox_key_is_scoped_too(server: ServerProcess) -> None:
    client = sdk(server)
    mine = await client.inboxes.create(request=CreateInboxRequest(username="mine"))
    other = await client.inboxes.create(request=CreateInboxRequest(username="other"))
    async with stdio_session(server, await inbox_key(server, mine.inbox_id)) as session:
        listed = await call(session, "list_inboxes", {})
        assert other.inbox_id not in text(listed)
        refused = await session.call_tool("get_inbox", {"inbox_id": other.inbox_id})
        assert refused.is_error


async def test_bad_arguments_and_missing_keys_are_refused(server: ServerProcess) -> None:
    async with http_session(server, {"Authorization": f"Bearer {server.api_key}"}) as session:
        for tool, arguments in (
            ("get_inbox", {}),
            ("send_message", {"inbox_id": "x@postroom.localhost", "to": "not-a-list"}),
            ("list_threads", {"inbox_id": "x@postroom.localhost", "before": "yesterday"}),
            ("wait_for_message", {"timeout_seconds": -1}),
            ("get_inbox", {"inbox_id": "nobody@postroom.localhost"}),
            ("send_message", {"inbox_id": "nobody@postroom.localhost", "to": []}),
            ("update_draft", {"inbox_id": "x@postroom.localhost", "draft_id": "d"}),
            ("no_such_tool", {}),
        ):
            refused = await session.call_tool(tool, arguments)
            assert refused.is_error, tool
            assert text(refused)
        missing = await session.call_tool("get_inbox", {"inbox_id": "nobody@postroom.localhost"})
        assert "not_found" in text(missing) or "Not found" in text(missing)
    async with httpx.AsyncClient() as http:
        for headers in ({}, {"Authorization": "Bearer pr_wrong"}, {"x-api-key": "pr_wrong"}):
            response = await http.post(f"{server.base_url}/mcp", headers=headers, json={})
            assert response.status_code == 401
            assert response.json()["name"] == "UnauthorizedError"
