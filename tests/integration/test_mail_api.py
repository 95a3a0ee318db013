"""Received mail through the API in-process on both databases: labels, hidden mail, deletes and their blobs."""

from __future__ import annotations

import uuid
from pathlib import Path

from fastapi.testclient import TestClient

from postroom.runtime import Runtime
from postroom.services.mail.receive import FromInbox, InboundMessage

# Stored as if another inbox of this server sent it: these tests are about filing, not about trust.
LOCAL = FromInbox("colleague@postroom.localhost")


def new_inbox(client: TestClient) -> str:
    response = client.post("/v0/inboxes", json={"username": f"mail-{uuid.uuid4().hex[:8]}"})
    assert response.status_code == 200, response.text
    return str(response.json()["inbox_id"])


def deliver(runtime: Runtime, inbox_id: str, subject: str, *, reply_to: str | None = None, attach: bool = False) -> str:
    message_id = f"<{uuid.uuid4().hex}@example.org>"
    headers = f"From: Ann <ann@example.org>\r\nTo: {inbox_id}\r\nSubject: {subject}\r\nMessage-ID: {message_id}\r\n"
    if reply_to:
        headers += f"In-Reply-To: {reply_to}\r\nReferences: {reply_to}\r\n"
    if attach:
        body = (
            'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
            "Content-Type: text/plain\r\n\r\nSee attached.\r\n--b\r\nContent-Type: application/octet-stream\r\n"
            'Content-Disposition: attachment; filename="data.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
            "AAECAw==\r\n--b--\r\n"
        )
    else:
        body = "\r\nHello.\r\n"
    stored = runtime.services.receive.store(
        InboundMessage((headers + body).encode(), "ann@example.org", [inbox_id], origin=LOCAL)
    )
    assert len(stored) == 1
    return message_id


def blob_files(tmp_path: Path) -> list[Path]:
    return [path for path in (tmp_path / "blobs").rglob("*") if path.is_file()]


def test_labels_follow_the_rules_and_trash_hides_mail(client: TestClient, runtime: Runtime) -> None:
    inbox_id = new_inbox(client)
    first = deliver(runtime, inbox_id, "one")
    deliver(runtime, inbox_id, "two")
    url = f"/v0/inboxes/{inbox_id}/messages"

    read = client.patch(f"{url}/{first}", json={"remove_labels": "unread", "add_labels": ["Project-X"]})
    assert read.json() == {"message_id": first, "labels": ["received", "project-x"]}
    for body in ({"add_labels": ["sent"]}, {"remove_labels": ["received"]}, {"add_labels": ["spam"]}):
        refused = client.patch(f"{url}/{first}", json=body)
        assert refused.status_code == 400
        assert refused.json()["code"] == "validation_error"
    assert client.get(f"{url}?labels=project-x").json()["count"] == 1
    assert client.get(f'{url}?labels=["project-x","unread"]').json()["count"] == 0

    client.patch(f"{url}/{first}", json={"add_labels": "trash"})
    assert [m["subject"] for m in client.get(url).json()["messages"]] == ["two"]
    assert client.get(f"{url}?include_trash=true").json()["count"] == 2
    threads = client.get(f"/v0/inboxes/{inbox_id}/threads").json()["threads"]
    assert [t["subject"] for t in threads] == ["two"]

    restricted = client.post(f"/v0/inboxes/{inbox_id}/api-keys", json={"permissions": {"message_read": True}})
    headers = {"Authorization": f"Bearer {restricted.json()['api_key']}"}
    assert client.get(f"{url}?include_trash=true", headers=headers).json()["count"] == 1
    assert client.get(f"{url}/{first}", headers=headers).status_code == 404
    assert client.get(f"{url}/{first}").status_code == 200


def test_replies_thread_and_thread_summary_follows_deletes(client: TestClient, runtime: Runtime) -> None:
    inbox_id = new_inbox(client)
    root = deliver(runtime, inbox_id, "plan")
    reply = deliver(runtime, inbox_id, "Re: plan", reply_to=root)
    threads = client.get(f"/v0/inboxes/{inbox_id}/threads").json()["threads"]
    assert len(threads) == 1
    thread = threads[0]
    assert (thread["message_count"], thread["last_message_id"], thread["subject"]) == (2, reply, "plan")

    assert client.delete(f"/v0/inboxes/{inbox_id}/messages/{reply}").status_code == 204
    after = client.get(f"/v0/threads/{thread['thread_id']}").json()
    assert (after["message_count"], after["last_message_id"], after["count"]) == (1, root, 1)
    assert client.delete(f"/v0/threads/{thread['thread_id']}").status_code == 204
    assert client.get(f"/v0/threads/{thread['thread_id']}").status_code == 404
    assert client.get(f"/v0/inboxes/{inbox_id}/messages").json()["count"] == 0


def test_deletes_remove_blobs_and_downloads(client: TestClient, runtime: Runtime, tmp_path: Path) -> None:
    inbox_id = new_inbox(client)
    message_id = deliver(runtime, inbox_id, "with file", attach=True)
    other = deliver(runtime, inbox_id, "plain")
    message = client.get(f"/v0/inboxes/{inbox_id}/messages/{message_id}").json()
    attachment = message["attachments"][0]
    link = client.get(f"/v0/inboxes/{inbox_id}/messages/{message_id}/attachments/{attachment['attachment_id']}")
    download = link.json()["download_url"]
    assert client.get(download).content == b"\x00\x01\x02\x03"
    assert len(blob_files(tmp_path)) == 3  # two raw messages and one attachment

    assert client.delete(f"/v0/inboxes/{inbox_id}/messages/{message_id}").status_code == 204
    assert client.get(download).status_code == 404
    assert len(blob_files(tmp_path)) == 1
    assert client.get(f"/v0/inboxes/{inbox_id}/messages/{other}").status_code == 200

    assert client.delete(f"/v0/inboxes/{inbox_id}").status_code == 204
    assert blob_files(tmp_path) == []


def test_duplicate_message_ids_are_stored_once(client: TestClient, runtime: Runtime) -> None:
    inbox_id = new_inbox(client)
    raw = f"From: a@example.org\r\nTo: {inbox_id}\r\nMessage-ID: <same@x>\r\nSubject: s\r\n\r\nx\r\n".encode()
    assert len(runtime.services.receive.store(InboundMessage(raw, None, [inbox_id], origin=LOCAL))) == 1
    assert runtime.services.receive.store(InboundMessage(raw, None, [inbox_id], origin=LOCAL)) == []
    assert client.get(f"/v0/inboxes/{inbox_id}/messages").json()["count"] == 1
