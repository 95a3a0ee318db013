"""Received mail through the API in-process on both databases: labels, hidden mail, deletes and their blobs."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, event

from postroom.runtime import Runtime
from postroom.services.mail.receive import FromInbox, InboundMessage
from postroom.storage.engine import NO_SNAPSHOT_FLAG

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


def test_a_message_is_read_only_through_its_own_inbox_and_a_404_names_what_is_missing(
    client: TestClient, runtime: Runtime
) -> None:
    """A message's visibility is decided from its own row; the inbox is read only to tell which of the two is
    missing. Every answer is the same as when the inbox was read first."""
    mine, other = new_inbox(client), new_inbox(client)
    message_id = deliver(runtime, mine, "only mine", attach=True)
    path = f"/v0/inboxes/{{}}/messages/{message_id}"
    pod = client.post("/v0/pods", json={"name": f"pod-{uuid.uuid4().hex[:8]}"}).json()["pod_id"]
    other_key = client.post(f"/v0/inboxes/{other}/api-keys", json={}).json()["api_key"]
    pod_key = client.post(f"/v0/pods/{pod}/api-keys", json={}).json()["api_key"]

    found = client.get(path.format(mine.upper()))
    assert found.status_code == 200, found.text
    assert (found.json()["inbox_id"], [a["filename"] for a in found.json()["attachments"]]) == (mine, ["data.bin"])

    def missing(inbox_id: str, key: str | None = None) -> tuple[int, str]:
        headers = {"Authorization": f"Bearer {key}"} if key else None
        answers = [
            client.get(path.format(inbox_id), headers=headers),
            client.patch(path.format(inbox_id), json={"add_labels": ["x"]}, headers=headers),
            client.delete(path.format(inbox_id), headers=headers),
            client.get(path.format(inbox_id) + "/raw", headers=headers),
        ]
        assert len({(answer.status_code, answer.json()["message"]) for answer in answers}) == 1, answers
        return answers[0].status_code, answers[0].json()["message"]

    assert missing(other) == (404, "Message not found")  # the organization's key, another of its inboxes
    assert missing(f"nobody-{uuid.uuid4().hex[:6]}@postroom.localhost") == (404, "Inbox not found")
    assert missing(mine, other_key) == (404, "Inbox not found")  # another inbox's key on this inbox's path
    assert missing(other, other_key) == (404, "Message not found")  # that key on its own path
    assert missing(mine, pod_key) == (404, "Inbox not found")  # a pod's key, the inbox outside its pod

    still = client.get(path.format(mine)).json()
    assert (still["labels"], still["subject"]) == (found.json()["labels"], "only mine")  # nothing changed


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL the engine sends while the block runs, BEGIN and the like included."""
    sent: list[str] = []

    def record(_connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement.split(None, 1)[0].upper())

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_a_message_and_its_attachments_are_read_in_one_statement_in_their_order(
    client: TestClient, runtime: Runtime
) -> None:
    inbox_id = new_inbox(client)
    message_id = f"<{uuid.uuid4().hex}@example.org>"
    names = ["zeta.txt", "alpha.bin", "mid.csv"]  # neither alphabetical nor by id: the order they are in the mail
    parts = "".join(
        f'--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="{name}"\r\n'
        f"Content-Transfer-Encoding: base64\r\n\r\nAAECAw==\r\n"
        for name in names
    )
    raw = (
        f"From: ann@example.org\r\nTo: {inbox_id}\r\nSubject: three\r\nMessage-ID: {message_id}\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
        f"--b\r\nContent-Type: text/plain\r\n\r\nThree files.\r\n{parts}--b--\r\n"
    )
    runtime.services.receive.store(InboundMessage(raw.encode(), "ann@example.org", [inbox_id], origin=LOCAL))
    principal = runtime.services.access.authenticate(client.headers["Authorization"])
    bare = deliver(runtime, inbox_id, "no files")

    with statements(runtime.engine) as sent:
        message = runtime.services.mail.get_message(principal, inbox_id, message_id)
        without = runtime.services.mail.get_message(principal, inbox_id, bare)
    assert sent == ["SELECT", "SELECT"]  # no BEGIN on SQLite either: each read is one statement on its own
    assert [part.filename for part in message.attachments] == names
    assert without.attachments == []

    answered = client.get(f"/v0/inboxes/{inbox_id}/messages/{message_id}").json()
    listed = client.get(f"/v0/inboxes/{inbox_id}/messages").json()["messages"]
    batch = client.post(f"/v0/inboxes/{inbox_id}/messages/batch-get", json={"message_ids": [message_id]}).json()
    keys = ("attachment_id", "filename", "size", "content_type", "content_disposition")
    by_get = [tuple(part.get(key) for key in keys) for part in answered["attachments"]]
    (in_list,) = [item for item in listed if item["message_id"] == message_id]
    by_list = [tuple(part.get(key) for key in keys) for part in in_list["attachments"]]
    assert by_get == by_list  # the two ways of loading attachments agree
    assert [part["filename"] for part in batch["messages"][0]["attachments"]] == names
    assert [part[2] for part in by_get] == [4, 4, 4]


def test_a_read_without_a_snapshot_opens_no_transaction_and_writes_still_do(runtime: Runtime) -> None:
    sqlite = runtime.engine.dialect.name == "sqlite"
    with statements(runtime.engine) as sent, runtime.factory(snapshot=False) as uow:
        uow.inboxes.get("nobody@postroom.localhost")
    assert sent == ["SELECT"]
    with statements(runtime.engine) as sent, runtime.factory() as uow:
        uow.inboxes.get("nobody@postroom.localhost")
    assert sent == (["BEGIN", "SELECT"] if sqlite else ["SELECT"])  # PostgreSQL's driver begins implicitly
    with statements(runtime.engine) as sent, runtime.factory(write=True, snapshot=False) as uow:
        uow.inboxes.get("nobody@postroom.localhost")
    assert sent[0] == ("BEGIN" if sqlite else "SELECT")  # a writer always has its transaction
    with runtime.factory(snapshot=False) as uow:
        pooled = uow.mail._c.info  # what the pool keeps with this connection for its next user
        uow.inboxes.get("nobody@postroom.localhost")
    assert NO_SNAPSHOT_FLAG not in pooled  # so the next user's transaction begins as usual
