"""Drafts through the API in-process on both databases: editing, attachments, kinds, scopes, sending and scheduling."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from postroom.domain.draft import SEND_LEASE
from postroom.runtime import Runtime
from postroom.storage.uow import SqlUnitOfWorkFactory
from tests.integration.test_mail_api import blob_files, deliver, new_inbox

PAST = "2020-01-02T03:04:05Z"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def create(client: TestClient, inbox_id: str, **body: Any) -> dict[str, Any]:
    response = client.post(f"/v0/inboxes/{inbox_id}/drafts", json=body)
    assert response.status_code == 200, response.text
    draft: dict[str, Any] = response.json()
    return draft


def claim_all(runtime: Runtime, now: datetime) -> list[str]:
    """Claim every due draft as a sender would, as of ``now`` (the real claim, without sending)."""
    with SqlUnitOfWorkFactory(runtime.engine)(write=True) as uow:
        claimed = uow.drafts.claim_due(now, now - SEND_LEASE, 100)
        uow.commit()
    return [draft.draft_id for draft in claimed]


def test_create_get_list_and_update_absent_versus_null(client: TestClient) -> None:
    inbox_id = new_inbox(client)
    url = f"/v0/inboxes/{inbox_id}/drafts"
    first = create(
        client,
        inbox_id,
        to=["Bob <bob@example.org>"],
        cc=["carol@example.org"],
        reply_to=["desk@example.org"],
        subject="Plan",
        text="Hello   Bob,\nthe plan.",
        html="<p>Hello Bob</p>",
        labels=["Project-X"],
    )
    assert first["to"] == ["Bob <bob@example.org>"]
    assert (first["labels"], first["preview"], first["inbox_id"]) == (["project-x"], "Hello Bob, the plan.", inbox_id)
    assert "send_status" not in first
    assert "send_at" not in first
    second = create(client, inbox_id, subject="Other")

    got = client.get(f"{url}/{first['draft_id']}").json()
    assert got == first
    listed = client.get(url).json()
    assert [d["draft_id"] for d in listed["drafts"]] == [second["draft_id"], first["draft_id"]]
    assert "text" not in listed["drafts"][1]
    assert "created_at" not in listed["drafts"][1]
    ascending = client.get(f"{url}?ascending=true").json()["drafts"]
    assert [d["draft_id"] for d in ascending] == [first["draft_id"], second["draft_id"]]
    assert [d["draft_id"] for d in client.get(f"{url}?labels=project-x").json()["drafts"]] == [first["draft_id"]]
    assert client.get(f'{url}?labels=["project-x","other"]').json()["count"] == 0

    page = client.get(f"{url}?limit=1").json()
    assert page["count"] == 1
    assert page["next_page_token"]
    rest = client.get(f"{url}?limit=1&page_token={page['next_page_token']}").json()
    assert [d["draft_id"] for d in rest["drafts"]] == [first["draft_id"]]
    assert "next_page_token" not in rest
    token_elsewhere = client.get(f"/v0/drafts?limit=1&page_token={page['next_page_token']}")
    assert token_elsewhere.status_code == 400

    unchanged = client.patch(f"{url}/{first['draft_id']}", json={}).json()
    assert {k: unchanged[k] for k in ("to", "cc", "subject", "text", "html")} == {
        k: first[k] for k in ("to", "cc", "subject", "text", "html")
    }
    cleared = client.patch(f"{url}/{first['draft_id']}", json={"subject": None, "cc": [], "html": None}).json()
    assert "subject" not in cleared
    assert "cc" not in cleared
    assert "html" not in cleared
    assert cleared["to"] == first["to"]
    assert cleared["text"] == first["text"]
    assert cleared["reply_to"] == first["reply_to"]
    edited = client.patch(f"{url}/{first['draft_id']}", json={"to": None, "text": "New text"}).json()
    assert "to" not in edited
    assert edited["preview"] == "New text"
    assert edited["updated_at"] > first["updated_at"]
    # The edited draft is now the most recently updated.
    assert client.get(url).json()["drafts"][0]["draft_id"] == first["draft_id"]
    after = client.get(url, params={"after": edited["updated_at"]}).json()["drafts"]
    assert [d["draft_id"] for d in after] == [first["draft_id"]]
    before = client.get(url, params={"before": edited["updated_at"]}).json()["drafts"]
    assert [d["draft_id"] for d in before] == [second["draft_id"]]


def test_client_id_returns_the_original_draft(client: TestClient) -> None:
    inbox_id = new_inbox(client)
    original = create(client, inbox_id, client_id="draft-1", subject="first")
    again = create(client, inbox_id, client_id="draft-1", subject="second")
    assert again == original
    assert client.get(f"/v0/inboxes/{inbox_id}/drafts").json()["count"] == 1
    bad = client.post(f"/v0/inboxes/{inbox_id}/drafts", json={"client_id": "a@b"})
    assert bad.status_code == 400


def test_attachments_are_stored_listed_downloaded_and_removed(client: TestClient, tmp_path: Path) -> None:
    inbox_id = new_inbox(client)
    url = f"/v0/inboxes/{inbox_id}/drafts"
    draft = create(
        client, inbox_id, attachments=[{"filename": "a.txt", "content_type": "text/plain", "content": b64(b"alpha")}]
    )
    [first] = draft["attachments"]
    assert (first["filename"], first["size"], first["content_type"]) == ("a.txt", 5, "text/plain")
    added = client.patch(
        f"{url}/{draft['draft_id']}", json={"add_attachments": [{"filename": "b.bin", "content": b64(b"\x00\x01\x02")}]}
    ).json()
    assert [a["filename"] for a in added["attachments"]] == ["a.txt", "b.bin"]
    second = added["attachments"][1]
    for prefix in ("/v0", f"/v0/inboxes/{inbox_id}"):
        link = client.get(f"{prefix}/drafts/{draft['draft_id']}/attachments/{second['attachment_id']}").json()
        assert link["size"] == 3
        assert link["expires_at"]
        assert client.get(link["download_url"]).content == b"\x00\x01\x02"
    assert len(blob_files(tmp_path)) == 2

    unknown = client.patch(f"{url}/{draft['draft_id']}", json={"remove_attachments": ["att_nope"]})
    assert unknown.status_code == 400
    removed = client.patch(f"{url}/{draft['draft_id']}", json={"remove_attachments": [first["attachment_id"]]}).json()
    assert [a["attachment_id"] for a in removed["attachments"]] == [second["attachment_id"]]
    assert len(blob_files(tmp_path)) == 1
    gone = client.get(f"{url}/{draft['draft_id']}/attachments/{first['attachment_id']}")
    assert gone.status_code == 404
    assert gone.json()["code"] == "not_found"

    assert client.delete(f"{url}/{draft['draft_id']}").status_code == 204
    assert client.get(f"{url}/{draft['draft_id']}").status_code == 404
    assert blob_files(tmp_path) == []


def test_labels_on_drafts_follow_the_rules(client: TestClient) -> None:
    inbox_id = new_inbox(client)
    url = f"/v0/inboxes/{inbox_id}/drafts"
    draft = create(client, inbox_id, labels=["a"])
    changed = client.patch(f"{url}/{draft['draft_id']}", json={"add_labels": ["Review", "b"], "remove_labels": ["a"]})
    assert changed.json()["labels"] == ["review", "b"]
    for body in ({"add_labels": ["sent"]}, {"add_labels": ["scheduled"]}, {"remove_labels": ["scheduled"]}):
        refused = client.patch(f"{url}/{draft['draft_id']}", json=body)
        assert refused.status_code == 400
        assert refused.json()["code"] == "validation_error"
    assert client.post(url, json={"labels": ["received"]}).status_code == 400
    assert client.get(f"{url}/{draft['draft_id']}").json()["labels"] == ["review", "b"]


def test_reply_draft_derives_threading_and_sends_into_the_thread(client: TestClient, runtime: Runtime) -> None:
    inbox_id = new_inbox(client)
    original = deliver(runtime, inbox_id, "plan")
    draft = create(client, inbox_id, in_reply_to=original, text="Sounds good.")
    assert (draft["to"], draft["subject"], draft["in_reply_to"]) == (["Ann <ann@example.org>"], "Re: plan", original)
    assert draft["references"] == [original]

    sent = client.post(f"/v0/inboxes/{inbox_id}/drafts/{draft['draft_id']}/send", json={})
    assert sent.status_code == 200, sent.text
    message = client.get(f"/v0/inboxes/{inbox_id}/messages/{sent.json()['message_id']}").json()
    assert message["thread_id"] == sent.json()["thread_id"]
    assert (message["subject"], message["in_reply_to"], message["labels"]) == ("Re: plan", original, ["sent"])
    thread = client.get(f"/v0/inboxes/{inbox_id}/threads/{message['thread_id']}").json()
    assert [m["message_id"] for m in thread["messages"]] == [original, message["message_id"]]
    assert client.get(f"/v0/inboxes/{inbox_id}/drafts/{draft['draft_id']}").status_code == 404


def test_reply_all_and_kind_rules(client: TestClient, runtime: Runtime) -> None:
    inbox_id = new_inbox(client)
    original = deliver(runtime, inbox_id, "plan")
    url = f"/v0/inboxes/{inbox_id}/drafts"
    everyone = create(client, inbox_id, in_reply_to=original, reply_all=True)
    assert everyone["to"] == ["Ann <ann@example.org>"]  # the inbox itself is never a recipient
    for body, field in (
        ({"in_reply_to": original, "reply_all": True, "to": ["x@example.org"]}, "to"),
        ({"in_reply_to": original, "forward_of": original}, "forward_of"),
        ({"reply_all": True}, "reply_all"),
    ):
        refused = client.post(url, json=body)
        assert refused.status_code == 400, body
        assert refused.json()["errors"][0]["path"] == field
    missing = client.post(url, json={"in_reply_to": "<nobody@example.org>"})
    assert missing.status_code == 404
    assert client.get(url).json()["count"] == 1


def test_forward_draft_merges_the_original_at_send(client: TestClient, runtime: Runtime) -> None:
    inbox_id = new_inbox(client)
    original = deliver(runtime, inbox_id, "report", attach=True)
    draft = create(client, inbox_id, forward_of=original, text="FYI")
    assert (draft["subject"], draft["forward_of"]) == ("Fwd: report", original)
    url = f"/v0/inboxes/{inbox_id}/drafts/{draft['draft_id']}"
    no_recipients = client.post(f"{url}/send", json={})
    assert no_recipients.status_code == 422
    kept = client.get(url).json()
    assert "send_status" not in kept  # a failed manual send leaves the draft as it was

    client.patch(url, json={"to": ["bob@example.org"]})
    sent = client.post(f"{url}/send", json={}).json()
    message = client.get(f"/v0/inboxes/{inbox_id}/messages/{sent['message_id']}").json()
    assert message["subject"] == "Fwd: report"
    assert message["text"].startswith("FYI")
    assert "See attached." in message["text"]
    assert [a["filename"] for a in message["attachments"]] == ["data.bin"]
    assert message["thread_id"] != client.get(f"/v0/inboxes/{inbox_id}/messages/{original}").json()["thread_id"]


def test_org_and_pod_routes_are_read_only_and_scoped(client: TestClient) -> None:
    inbox_id = new_inbox(client)
    other_inbox = new_inbox(client)
    draft = create(client, inbox_id, subject="mine")
    pod_id = client.get(f"/v0/inboxes/{inbox_id}").json()["pod_id"]
    for prefix in ("/v0", f"/v0/pods/{pod_id}"):
        assert client.get(f"{prefix}/drafts/{draft['draft_id']}").json()["subject"] == "mine"
        assert draft["draft_id"] in [d["draft_id"] for d in client.get(f"{prefix}/drafts").json()["drafts"]]
        assert client.patch(f"{prefix}/drafts/{draft['draft_id']}", json={}).status_code == 405
        assert client.delete(f"{prefix}/drafts/{draft['draft_id']}").status_code == 405
        assert client.post(f"{prefix}/drafts", json={}).status_code == 405
        assert client.post(f"{prefix}/drafts/{draft['draft_id']}/send", json={}).status_code in (404, 405)
    assert client.get(f"/v0/inboxes/{other_inbox}/drafts/{draft['draft_id']}").status_code == 404

    key = client.post(f"/v0/inboxes/{other_inbox}/api-keys", json={}).json()["api_key"]
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get(f"/v0/drafts/{draft['draft_id']}", headers=headers).status_code == 404
    assert client.get("/v0/drafts", headers=headers).json()["count"] == 0
    assert client.get(f"/v0/inboxes/{inbox_id}/drafts", headers=headers).status_code == 404
    patched = client.patch(f"/v0/inboxes/{inbox_id}/drafts/{draft['draft_id']}", json={}, headers=headers)
    assert patched.status_code == 404
    assert client.get(f"/v0/inboxes/{inbox_id}/drafts/{draft['draft_id']}").json()["subject"] == "mine"

    reader = client.post(f"/v0/inboxes/{inbox_id}/api-keys", json={"permissions": {"draft_read": True}})
    read_only = {"Authorization": f"Bearer {reader.json()['api_key']}"}
    assert client.get(f"/v0/inboxes/{inbox_id}/drafts", headers=read_only).json()["count"] == 1
    denied = client.post(f"/v0/inboxes/{inbox_id}/drafts", json={}, headers=read_only)
    assert denied.status_code == 403
    assert denied.json()["code"] == "missing_permission"


def test_send_applies_labels_and_honours_idempotency_keys(client: TestClient) -> None:
    inbox_id = new_inbox(client)
    url = f"/v0/inboxes/{inbox_id}/drafts"
    draft = create(client, inbox_id, to=["bob@example.org"], subject="Hi", text="Hello", labels=["keep", "drop"])
    send_url = f"{url}/{draft['draft_id']}/send"
    headers = {"Idempotency-Key": f"k-{uuid.uuid4().hex}"}
    body = {"add_labels": "Outbox", "remove_labels": ["drop"]}
    first = client.post(send_url, json=body, headers=headers)
    assert first.status_code == 200, first.text
    message = client.get(f"/v0/inboxes/{inbox_id}/messages/{first.json()['message_id']}").json()
    assert message["labels"] == ["sent", "keep", "outbox"]
    assert client.get(f"{url}/{draft['draft_id']}").status_code == 404

    assert client.post(send_url, json=body, headers=headers).json() == first.json()
    conflict = client.post(send_url, json={"add_labels": ["other"]}, headers=headers)
    assert conflict.status_code == 409
    assert conflict.json()["code"] == "conflict"
    assert client.post(send_url, json={}, headers={"Idempotency-Key": ""}).status_code == 400
    assert client.post(send_url, json={}).status_code == 404
    assert client.get(f"/v0/inboxes/{inbox_id}/messages").json()["count"] == 1

    refused = create(client, inbox_id, to=["bob@example.org"])
    system_label = client.post(f"{url}/{refused['draft_id']}/send", json={"add_labels": ["delivered"]})
    assert system_label.status_code == 400
    assert client.get(f"{url}/{refused['draft_id']}").status_code == 200


def test_scheduled_drafts_send_when_due_and_unschedule(client: TestClient, runtime: Runtime) -> None:
    inbox_id = new_inbox(client)
    url = f"/v0/inboxes/{inbox_id}/drafts"
    due = create(client, inbox_id, to=["bob@example.org"], subject="due", send_at=PAST)
    assert (due["labels"], due["send_status"], due["send_at"]) == (["scheduled"], "scheduled", "2020-01-02T03:04:05Z")
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    later = create(client, inbox_id, to=["bob@example.org"], subject="later", send_at=future)
    assert client.get(f"{url}?labels=scheduled").json()["count"] == 2

    assert runtime.services.drafts.send_due() == 1
    assert client.get(f"{url}/{due['draft_id']}").status_code == 404
    [message] = client.get(f"/v0/inboxes/{inbox_id}/messages").json()["messages"]
    assert (message["subject"], message["labels"]) == ("due", ["sent"])
    assert runtime.services.drafts.send_due() == 0

    unscheduled = client.patch(f"{url}/{later['draft_id']}", json={"send_at": None}).json()
    assert unscheduled["labels"] == []
    assert "send_status" not in unscheduled
    assert "send_at" not in unscheduled
    rescheduled = client.patch(f"{url}/{later['draft_id']}", json={"send_at": PAST, "add_labels": ["x"]}).json()
    assert rescheduled["labels"] == ["x", "scheduled"]
    assert rescheduled["send_status"] == "scheduled"
    assert runtime.services.drafts.send_due() == 1
    assert client.get(f"/v0/inboxes/{inbox_id}/messages").json()["count"] == 2


def test_a_failed_scheduled_send_keeps_the_draft_as_failed(client: TestClient, runtime: Runtime) -> None:
    inbox_id = new_inbox(client)
    url = f"/v0/inboxes/{inbox_id}/drafts"
    draft = create(client, inbox_id, subject="nobody to send to", send_at=PAST)
    assert runtime.services.drafts.send_due() == 0
    failed = client.get(f"{url}/{draft['draft_id']}").json()
    assert failed["send_status"] == "failed"
    assert failed["labels"] == []
    assert runtime.services.drafts.send_due() == 0  # failed drafts wait for a new send_at
    retried = client.patch(f"{url}/{draft['draft_id']}", json={"to": ["bob@example.org"], "send_at": PAST}).json()
    assert retried["send_status"] == "scheduled"
    assert runtime.services.drafts.send_due() == 1


def test_a_draft_being_sent_cannot_change_and_a_stranded_send_is_retried(client: TestClient, runtime: Runtime) -> None:
    inbox_id = new_inbox(client)
    url = f"/v0/inboxes/{inbox_id}/drafts"
    draft = create(client, inbox_id, to=["bob@example.org"], subject="in flight", send_at=PAST)
    one = f"{url}/{draft['draft_id']}"
    assert claim_all(runtime, datetime.now(UTC)) == [draft["draft_id"]]
    assert client.get(one).json()["send_status"] == "sending"
    for response in (
        client.patch(one, json={"subject": "changed"}),
        client.patch(one, json={"send_at": None}),
        client.delete(one),
        client.post(f"{one}/send", json={}),
    ):
        assert response.status_code == 409
        assert response.json()["code"] == "conflict"
    assert runtime.services.drafts.send_due() == 0  # the claim still holds
    assert client.get(one).json()["subject"] == "in flight"

    stranded = create(client, inbox_id, to=["bob@example.org"], subject="stranded", send_at=PAST)
    assert claim_all(runtime, datetime.now(UTC) - SEND_LEASE - timedelta(minutes=1)) == [stranded["draft_id"]]
    assert runtime.services.drafts.send_due() == 1  # its sender died: the lease ran out
    subjects = [m["subject"] for m in client.get(f"/v0/inboxes/{inbox_id}/messages").json()["messages"]]
    assert subjects == ["stranded"]


def test_bad_input_is_refused_and_changes_nothing(client: TestClient, tmp_path: Path) -> None:
    inbox_id = new_inbox(client)
    url = f"/v0/inboxes/{inbox_id}/drafts"
    draft = create(client, inbox_id, subject="keep")
    for body in (
        {"to": "bob@example.org"},  # drafts take lists only
        {"subject": 5},
        {"unknown": True},
        {"send_at": "soon"},
        {"reply_all": "yes"},
        {"to": ["not an address"]},
        {"attachments": [{"content": "@@@not base64"}]},
        {"attachments": [{"filename": "x"}]},
        {"labels": [""]},
    ):
        refused = client.post(url, json=body)
        assert refused.status_code == 400, (body, refused.text)
        assert refused.json()["code"] == "validation_error", body
        assert refused.json()["errors"], body
    for body in (
        {"to": "bob@example.org"},
        {"add_attachments": [{"content": "!!"}]},
        {"remove_attachments": "att_x"},
        {"send_at": 12},
        {"text": "\u0000"},
    ):
        refused = client.patch(f"{url}/{draft['draft_id']}", json=body)
        assert refused.status_code == 400, (body, refused.text)
    assert client.post(f"{url}/{draft['draft_id']}/send", json={"add_labels": 3}).status_code == 400
    assert client.get(url).json()["count"] == 1
    assert client.get(f"{url}/{draft['draft_id']}").json() == draft
    assert blob_files(tmp_path) == []
    assert client.get(f"{url}/drf_missing").status_code == 404
    assert client.patch(f"{url}/drf_missing", json={}).status_code == 404
