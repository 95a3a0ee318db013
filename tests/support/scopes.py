"""A populated scope for route-wide probes: a pod with an inbox holding one of every kind of resource.

``populate`` returns the id of each resource under the name of the path parameter routes use for it, so a probe
can fill any route template from the application's own route table.
"""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from fastapi.testclient import TestClient

from postroom.runtime import Runtime
from postroom.services.mail.receive import FromInbox, InboundMessage

ATTACHED = (
    'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
    "Content-Type: text/plain\r\n\r\nSee attached.\r\n--b\r\nContent-Type: application/octet-stream\r\n"
    'Content-Disposition: attachment; filename="data.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
    "AAECAw==\r\n--b--\r\n"
)


def _ok(client: TestClient, method: str, path: str, body: object = None) -> dict[str, object]:
    response = client.request(method, path, json=body)
    assert response.status_code == 200, f"setup {method} {path}: {response.status_code} {response.text}"
    result: dict[str, object] = response.json()
    return result


def deliver(runtime: Runtime, inbox_id: str, subject: str) -> str:
    """Store one inbound message with an attachment in ``inbox_id``; its Message-ID."""
    message_id = f"<{uuid.uuid4().hex}@example.org>"
    headers = f"From: Ann <ann@example.org>\r\nTo: {inbox_id}\r\nSubject: {subject}\r\nMessage-ID: {message_id}\r\n"
    origin = FromInbox("colleague@postroom.localhost")
    message = InboundMessage((headers + ATTACHED).encode(), "ann@example.org", [inbox_id], origin=origin)
    assert len(runtime.services.receive.store(message)) == 1
    return message_id


def populate(client: TestClient, runtime: Runtime, name: str) -> dict[str, str]:
    """Pod ``name`` with inbox ``name``, a message and its thread and attachment, a draft, a webhook, a domain, a
    list entry, an inbox key and a pod key (``inbox_key``, ``pod_key``: their secrets), made with ``client``'s
    unrestricted key. Needs ``allow_private_urls`` (the webhook points at 127.0.0.1)."""
    ids: dict[str, str] = {"direction": "receive", "list_type": "block", "entry": f"{name}@example.org"}
    ids["pod_id"] = str(_ok(client, "POST", "/v0/pods", {"name": name})["pod_id"])
    pod = f"/v0/pods/{ids['pod_id']}"
    ids["inbox_id"] = str(_ok(client, "POST", f"{pod}/inboxes", {"username": name})["inbox_id"])
    inbox = f"/v0/inboxes/{ids['inbox_id']}"
    ids["message_id"] = deliver(runtime, ids["inbox_id"], f"hello {name}")
    message = _ok(client, "GET", f"{inbox}/messages/{ids['message_id']}")
    ids["thread_id"] = str(message["thread_id"])
    attachments = message["attachments"]
    assert isinstance(attachments, list)
    ids["attachment_id"] = str(attachments[0]["attachment_id"])
    ids["draft_id"] = str(_ok(client, "POST", f"{inbox}/drafts", {"subject": name})["draft_id"])
    hook = {"url": "http://127.0.0.1:9/hook", "event_types": ["message.received"]}
    ids["webhook_id"] = str(_ok(client, "POST", f"{inbox}/webhooks", hook)["webhook_id"])
    ids["domain_id"] = str(_ok(client, "POST", f"{pod}/domains", {"domain": f"{name}.example.test"})["domain_id"])
    _ok(client, "POST", f"{inbox}/lists/receive/block", {"entry": ids["entry"]})
    key = _ok(client, "POST", f"{inbox}/api-keys", {"name": name})
    ids["api_key_id"], ids["inbox_key"] = str(key["api_key_id"]), str(key["api_key"])
    ids["pod_key"] = str(_ok(client, "POST", f"{pod}/api-keys", {"name": f"{name} pod"})["api_key"])
    raw = _ok(client, "GET", f"{inbox}/messages/{ids['message_id']}/raw")
    ids["token"] = urlsplit(str(raw["download_url"])).path.rsplit("/", 1)[1]
    return ids
