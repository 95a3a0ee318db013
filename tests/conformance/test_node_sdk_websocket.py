"""The official npm SDK's websocket client (agentmail 0.5.20) receives events for mail sent over SMTP."""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from agentmail import AgentMail
from agentmail.inboxes import CreateInboxRequest

from tests.conformance.helpers import unique
from tests.support.mail import send_mail
from tests.support.server import ServerProcess

NODE_DIR = Path(__file__).parent / "node"
TIMEOUT = 60.0


def test_npm_sdk_websocket_client_receives_received_mail(server: ServerProcess, sdk: AgentMail) -> None:
    if not (NODE_DIR / "node_modules" / "agentmail").is_dir():
        pytest.fail(f"{NODE_DIR}/node_modules/agentmail is missing: run `make test` (it runs `npm ci` there)")
    node = shutil.which("node")
    if node is None:
        pytest.fail("`node` is not on PATH: install Node.js 18+ and run `make test`")
    inbox = sdk.inboxes.create(request=CreateInboxRequest(username=unique("npmws")))
    other = sdk.inboxes.create(request=CreateInboxRequest(username=unique("npmws")))
    env = {
        **os.environ,
        "POSTROOM_BASE_URL": server.base_url,
        "POSTROOM_API_KEY": server.api_key,
        "POSTROOM_INBOX": inbox.inbox_id,
    }
    process = subprocess.Popen(
        [node, "websocket.mjs", "2"], cwd=NODE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    stdout = process.stdout
    threading.Thread(target=lambda: [lines.put(line) for line in stdout], daemon=True).start()
    try:
        first = lines.get(timeout=TIMEOUT)
        assert first.startswith("subscribed: "), first
        assert json.loads(first.split(": ", 1)[1])["inboxIds"] == [inbox.inbox_id]
        send_mail(server.smtp_port, other.inbox_id, subject="filtered out")
        sent = [send_mail(server.smtp_port, inbox.inbox_id, subject=f"npm {n}") for n in range(2)]
        events = [json.loads(lines.get(timeout=TIMEOUT).split(": ", 1)[1]) for _ in sent]
        assert [event["messageId"] for event in events] == sent
        assert all(event["eventType"] == "message.received" for event in events)
        assert [event["subject"] for event in events] == ["npm 0", "npm 1"]
        assert process.wait(timeout=TIMEOUT) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
