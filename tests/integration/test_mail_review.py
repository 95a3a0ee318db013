"""Regression tests for review findings: hidden mail stays hidden in thread search, PATCH and DELETE; concurrent
label changes; retried mail without a Message-ID; text no database can store; a failed BEGIN releases the lock."""

from __future__ import annotations

import threading
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from postroom.domain.labels import LabelChange
from postroom.runtime import Runtime
from postroom.services.mail.receive import FromInbox, InboundMessage
from postroom.storage.engine import create_database_engine
from postroom.storage.uow import SqlUnitOfWorkFactory
from tests.integration.test_mail_api import deliver, new_inbox

# Stored as if another inbox of this server sent it: these tests are about filing, not about trust.
LOCAL = FromInbox("colleague@postroom.localhost")


def restricted(client: TestClient, inbox_id: str) -> dict[str, str]:
    permissions = {"message_read": True, "message_update": True, "message_delete": True, "inbox_read": True}
    created = client.post(f"/v0/inboxes/{inbox_id}/api-keys", json={"permissions": permissions})
    return {"Authorization": f"Bearer {created.json()['api_key']}"}


def test_trashed_mail_stays_hidden_from_a_key_that_cannot_read_trash(client: TestClient, runtime: Runtime) -> None:
    inbox_id = new_inbox(client)
    root = deliver(runtime, inbox_id, "visible banana")
    hidden = deliver(runtime, inbox_id, "confidential mango", reply_to=root)
    alone = deliver(runtime, inbox_id, "secret file", attach=True)
    for message_id in (hidden, alone):
        client.patch(f"/v0/inboxes/{inbox_id}/messages/{message_id}", json={"add_labels": ["trash"]})
    headers = restricted(client, inbox_id)

    found = client.get("/v0/threads/search?q=banana", headers=headers).json()["threads"]
    assert [(t["subject"], t["message_count"], t["preview"]) for t in found] == [("visible banana", 1, "Hello.")]
    assert "trash" not in found[0]["labels"]

    alone_thread = client.get(f"/v0/inboxes/{inbox_id}/messages/{alone}").json()
    thread_id, attachment_id = alone_thread["thread_id"], alone_thread["attachments"][0]["attachment_id"]
    for method, path, body in (
        ("GET", f"/v0/threads/{thread_id}", None),
        ("GET", f"/v0/threads/{thread_id}/attachments/{attachment_id}", None),
        ("PATCH", f"/v0/threads/{thread_id}", {"add_labels": ["seen"]}),
        ("DELETE", f"/v0/threads/{thread_id}", None),
    ):
        assert client.request(method, path, json=body, headers=headers).status_code == 404, (method, path)
    assert "seen" not in client.get(f"/v0/inboxes/{inbox_id}/messages/{alone}").json()["labels"]

    mixed = client.get(f"/v0/inboxes/{inbox_id}/messages/{root}").json()["thread_id"]
    assert client.get("/v0/threads?senders=mallory&subject=mango", headers=headers).json()["count"] == 0
    assert client.delete(f"/v0/threads/{mixed}", headers=headers).status_code == 204
    assert client.get(f"/v0/inboxes/{inbox_id}/messages/{root}").status_code == 404
    assert client.get(f"/v0/inboxes/{inbox_id}/messages/{hidden}").status_code == 200  # not the key's to delete


def test_concurrent_label_changes_all_land(client: TestClient, runtime: Runtime, root_key: str) -> None:
    inbox_id = new_inbox(client)
    message_id = deliver(runtime, inbox_id, "busy")
    principal = runtime.services.access.authenticate(f"Bearer {root_key}")
    errors: list[BaseException] = []

    def add(label: str) -> None:
        try:
            runtime.services.mail.update_message(principal, inbox_id, message_id, LabelChange(add=(label,)))
        except BaseException as error:  # collected and asserted below
            errors.append(error)

    workers = [threading.Thread(target=add, args=(f"l{i}",)) for i in range(12)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    labels = client.get(f"/v0/inboxes/{inbox_id}/messages/{message_id}").json()["labels"]
    assert {f"l{i}" for i in range(12)} <= set(labels)


def test_a_retried_message_without_message_id_is_stored_once(client: TestClient, runtime: Runtime) -> None:
    inbox_id = new_inbox(client)
    raw = f"From: a@example.org\r\nTo: {inbox_id}\r\nSubject: no id\r\n\r\n{uuid.uuid4()}\r\n".encode()
    assert len(runtime.services.receive.store(InboundMessage(raw, None, [inbox_id], origin=LOCAL))) == 1
    assert runtime.services.receive.store(InboundMessage(raw, None, [inbox_id], origin=LOCAL)) == []
    assert client.get(f"/v0/inboxes/{inbox_id}/messages").json()["count"] == 1


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/v0/threads?senders=a%00", None, 400),
        ("GET", "/v0/threads?subject=%5B%22a%5Cu0000%22%5D", None, 400),
        ("GET", "/v0/threads/thd%00", None, 404),
        ("GET", "/v0/inboxes/INBOX/messages/%3Cm%00%3E", None, 404),
        ("POST", "/v0/inboxes/INBOX/messages/batch-get", '{"message_ids": ["\\u0000"]}', 400),
        ("POST", "/v0/pods", '{"name": "\\ud800"}', 400),
        ("POST", "/v0/api-keys", '{"name": "x\\u0000"}', 400),
    ],
)
def test_text_no_database_can_store_is_refused(
    client: TestClient, method: str, path: str, body: str | None, status: int
) -> None:
    inbox_id = new_inbox(client)
    headers = {"Content-Type": "application/json"}
    response = client.request(method, path.replace("INBOX", inbox_id), content=body, headers=headers)
    assert response.status_code == status, response.text
    assert response.json()["code"] in {"validation_error", "not_found"}


def test_a_failed_begin_releases_the_sqlite_writer_lock(sqlite_url: str) -> None:
    engine = create_database_engine(sqlite_url)
    factory = SqlUnitOfWorkFactory(engine)
    failures = {"left": 1}

    def fail_once(connection: object) -> None:
        if failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("database is locked")

    event.listen(engine, "begin", fail_once)
    try:
        with pytest.raises(RuntimeError), factory(write=True):
            pass
        done = threading.Event()

        def write() -> None:
            with factory(write=True) as work:
                work.commit()
            done.set()

        threading.Thread(target=write, daemon=True).start()
        assert done.wait(10), "a later write is stuck behind a lock the failed one never released"
    finally:
        event.remove(engine, "begin", fail_once)
        engine.dispose()
