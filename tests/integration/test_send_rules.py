"""Send, reply, reply-all and forward refusals, in process on SQLite and PostgreSQL: each gets its ErrorResponse
and stores nothing (no message, thread, delivery job, event, idempotency record or blob).

Covers private attachment URLs (refused by default), permissions and scopes, and a table of bad request bodies.
"""

from __future__ import annotations

import base64
import http.server
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select

from postroom.domain.outbound import DeliveryResult
from postroom.runtime import Runtime
from postroom.storage.tables import (
    attachments,
    delivery_jobs,
    delivery_recipients,
    idempotency_keys,
    list_entries,
    messages,
    outbox,
    thread_keys,
    threads,
)

COUNTED = (messages, threads, thread_keys, attachments, delivery_jobs, delivery_recipients, outbox, idempotency_keys)
TO = "ann@example.org"


@dataclass
class Scene:
    client: TestClient
    runtime: Runtime
    data_dir: Path
    sender: str  # an inbox with one sent message
    peer: str  # another inbox of the organization, with one sent message of its own
    sent_id: str
    peer_sent_id: str

    def post(self, path: str, body: object = None, key: str | None = None, **headers: str) -> Response:
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        response: Response = self.client.post(path, json=body, headers=headers)
        return response

    def key(self, route: str, permissions: dict[str, bool] | None = None) -> str:
        body: dict[str, object] = {"name": "limited"}
        if permissions is not None:
            body["permissions"] = permissions
        response = self.client.post(f"{route}/api-keys", json=body)
        assert response.status_code == 200, response.text
        return str(response.json()["api_key"])

    def state(self) -> dict[str, int]:
        """Row counts of everything a send writes, and the number of blob files."""
        with self.runtime.engine.connect() as connection:
            counts = {
                t.name: int(connection.execute(select(func.count()).select_from(t)).scalar_one()) for t in COUNTED
            }
        counts["blob files"] = sum(1 for path in self.data_dir.rglob("*") if path.is_file() and "blobs" in path.parts)
        return counts


def send_path(inbox_id: str) -> str:
    return f"/v0/inboxes/{inbox_id}/messages/send"


def message_path(inbox_id: str, message_id: str, action: str) -> str:
    return f"/v0/inboxes/{inbox_id}/messages/{message_id}/{action}"


@pytest.fixture
def scene(client: TestClient, runtime: Runtime, tmp_path: Path) -> Scene:
    inboxes = []
    sent = []
    for username in ("sender", "peer"):
        created = client.post("/v0/inboxes", json={"username": username})
        assert created.status_code == 200, created.text
        inbox_id = created.json()["inbox_id"]
        response = client.post(send_path(inbox_id), json={"to": TO, "subject": "First", "text": "Hello."})
        assert response.status_code == 200, response.text
        inboxes.append(inbox_id)
        sent.append(response.json()["message_id"])
    return Scene(client, runtime, tmp_path, inboxes[0], inboxes[1], sent[0], sent[1])


def assert_error(response: Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, f"{response.status_code} {response.text}"
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body, dict)
    assert isinstance(body.get("name"), str), body
    assert isinstance(body.get("message"), str), body
    assert body.get("code") == code, body
    if status == 400:
        errors = body.get("errors")
        assert isinstance(errors, list), body
        assert errors, body
        assert all(isinstance(e.get("path"), str) and isinstance(e.get("message"), str) for e in errors), body
    return body


def test_the_scene_really_stores_sends(scene: Scene) -> None:
    """The counter works: a good send adds a message, a job, recipients, an event and blobs."""
    before = scene.state()
    response = scene.post(
        send_path(scene.sender),
        {
            "to": TO,
            "text": "Counted.",
            "attachments": [{"content": base64.b64encode(b"data").decode(), "filename": "a.txt"}],
        },
        **{"Idempotency-Key": "counted-1"},
    )
    assert response.status_code == 200, response.text
    after = scene.state()
    for name in ("messages", "threads", "attachments", "delivery_jobs", "delivery_recipients", "outbox"):
        assert after[name] == before[name] + 1, name
    assert after["idempotency_keys"] == before["idempotency_keys"] + 1
    assert after["blob files"] > before["blob files"]


# --- private URLs --------------------------------------------------------------------------------------------------


@pytest.fixture
def loopback_file() -> Iterator[str]:
    """A real loopback HTTP server answering 200, so a refusal can only come from the address policy."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"hi")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/file.txt"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_private_attachment_urls_are_refused_by_default(scene: Scene, loopback_file: str) -> None:
    assert scene.runtime.settings.allow_private_urls is False
    before = scene.state()
    port = loopback_file.split(":")[2].split("/")[0]
    for url in (
        loopback_file,
        f"http://localhost:{port}/file.txt",
        f"http://[::1]:{port}/file.txt",
        "http://10.0.0.1/file.txt",
        "http://169.254.169.254/latest/meta-data",
    ):
        body = {"to": TO, "text": "x", "attachments": [{"url": url}]}
        for path in (
            send_path(scene.sender),
            message_path(scene.sender, scene.sent_id, "reply"),
            message_path(scene.sender, scene.sent_id, "forward"),
        ):
            assert_error(scene.post(path, body), 403, "message_rejected")
    for url in ("file:///etc/passwd", "ftp://example.org/x", "not a url"):
        # Only http(s) is fetched at all, whatever the address policy.
        assert_error(
            scene.post(send_path(scene.sender), {"to": TO, "attachments": [{"url": url}]}), 403, "message_rejected"
        )
    assert scene.state() == before


# --- permissions and scopes -----------------------------------------------------------------------------------------


def test_permissions_and_scopes(scene: Scene) -> None:
    before = scene.state()
    body = {"to": TO, "text": "x"}
    reply_only = scene.key("/v0", {"inbox_read": True, "message_read": True, "message_reply": True})
    send_only = scene.key("/v0", {"inbox_read": True, "message_read": True, "message_send": True})
    read_only = scene.key("/v0", {"inbox_read": True, "message_read": True})
    peer_key = scene.key(f"/v0/inboxes/{scene.peer}")

    for key in (reply_only, read_only):
        assert_error(scene.post(send_path(scene.sender), body, key), 403, "missing_permission")
        assert_error(
            scene.post(message_path(scene.sender, scene.sent_id, "forward"), body, key), 403, "missing_permission"
        )
    for key in (send_only, read_only):
        for action in ("reply", "reply-all"):
            response = scene.post(message_path(scene.sender, scene.sent_id, action), {"text": "x"}, key)
            assert_error(response, 403, "missing_permission")

    # An inbox key sees only its own inbox: the other inbox does not exist for it.
    assert_error(scene.post(send_path(scene.sender), body, peer_key), 404, "not_found")
    for action in ("reply", "reply-all", "forward"):
        reply_body = {"text": "x"} if action == "reply-all" else body
        response = scene.post(message_path(scene.sender, scene.sent_id, action), reply_body, peer_key)
        assert_error(response, 404, "not_found")
        # A message of another inbox cannot be reached through one's own inbox either.
        response = scene.post(message_path(scene.peer, scene.sent_id, action), reply_body, peer_key)
        assert_error(response, 404, "not_found")
        response = scene.post(message_path(scene.sender, scene.peer_sent_id, action), reply_body)
        assert_error(response, 404, "not_found")
    assert_error(scene.post(send_path("nobody@postroom.localhost"), body), 404, "not_found")
    assert scene.state() == before

    # The same keys do what they may: the inbox key sends from its own inbox, the reply key replies.
    assert scene.post(send_path(scene.peer), body, peer_key).status_code == 200
    assert scene.post(message_path(scene.sender, scene.sent_id, "reply"), {"text": "x"}, reply_only).status_code == 200
    assert scene.post(send_path(scene.sender), body, send_only).status_code == 200


def test_paused_inbox_refuses_every_way_out_and_stores_nothing(scene: Scene) -> None:
    patched = scene.client.patch(f"/v0/inboxes/{scene.sender}", json={"status": "paused"})
    assert patched.status_code == 200, patched.text
    before = scene.state()
    ways_out = [
        (send_path(scene.sender), {"to": TO, "text": "x"}),
        (message_path(scene.sender, scene.sent_id, "reply"), {"text": "x"}),
        (message_path(scene.sender, scene.sent_id, "reply-all"), {"text": "x"}),
        (message_path(scene.sender, scene.sent_id, "forward"), {"to": TO}),
    ]
    for path, body in ways_out:
        assert_error(scene.post(path, body, **{"Idempotency-Key": "paused-1"}), 403, "message_rejected")
    assert scene.state() == before
    # Active again, the same key is free: the refusals left no idempotency record behind.
    assert scene.client.patch(f"/v0/inboxes/{scene.sender}", json={"status": "active"}).status_code == 200
    path, body = ways_out[0]
    assert scene.post(path, body, **{"Idempotency-Key": "paused-1"}).status_code == 200


# --- a table of bad bodies ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bad:
    action: str  # send, reply, reply-all, forward
    body: object = None
    raw: bytes | None = None
    idempotency_key: str | None = None
    field: str | None = None  # a path the errors list must name

    def __str__(self) -> str:
        shown = self.raw.decode() if self.raw is not None else json.dumps(self.body)[:60]
        return f"{self.action} {shown} key={None if self.idempotency_key is None else len(self.idempotency_key)}"


B64 = base64.b64encode(b"hello").decode()
OK = {"to": TO, "text": "x"}

BAD = [
    # malformed JSON / not an object
    *(Bad(action, raw=b'{"to": ') for action in ("send", "reply", "reply-all", "forward")),
    *(Bad(action, raw=raw) for action in ("send", "reply") for raw in (b"[]", b'"x"', b"5", b"null")),
    # wrong types
    Bad("send", {"to": 5}, field="to"),
    Bad("send", {"to": [TO, 5]}, field="to"),
    Bad("send", {"to": TO, "subject": 5}, field="subject"),
    Bad("send", {"to": TO, "text": ["x"]}, field="text"),
    Bad("send", {"to": TO, "html": {"x": 1}}, field="html"),
    Bad("send", {"to": TO, "labels": "important"}, field="labels"),
    Bad("send", {"to": TO, "labels": [1]}, field="labels"),
    Bad("send", {"to": TO, "headers": {"X-A": 1}}, field="headers"),
    Bad("send", {"to": TO, "headers": ["X-A"]}, field="headers"),
    Bad("send", {"to": TO, "attachments": {"content": B64}}, field="attachments"),
    Bad("send", {"to": TO, "attachments": [{"content": 5}]}, field="attachments"),
    Bad("send", {"to": TO, "track_opens": "yes"}, field="track_opens"),
    Bad("reply", {"text": "x", "reply_all": "true"}, field="reply_all"),
    Bad("forward", {"to": TO, "cc": [None]}, field="cc"),
    # unknown fields (and fields an endpoint does not have)
    Bad("send", {**OK, "bogus": 1}, field="bogus"),
    Bad("send", {**OK, "from": "me@example.org"}, field="from"),
    Bad("reply", {"text": "x", "subject": "Mine"}, field="subject"),
    Bad("reply-all", {"text": "x", "to": TO}, field="to"),
    Bad("forward", {**OK, "reply_all": True}, field="reply_all"),
    Bad("send", {"to": TO, "attachments": [{"content": B64, "size": 5}]}),
    # invalid addresses
    Bad("send", {"to": "not an address"}, field="to[0]"),
    Bad("send", {"to": ["ann@example.org, bob@example.org"]}, field="to[0]"),
    Bad("send", {"to": TO, "cc": ["x@example.org\r\nBcc: evil@example.org"]}),
    Bad("send", {"to": TO, "bcc": [""]}, field="bcc[0]"),
    Bad("send", {"to": TO, "reply_to": "@example.org"}, field="reply_to[0]"),
    Bad("reply", {"text": "x", "to": ["nope"]}, field="to[0]"),
    Bad("forward", {"to": "nope"}, field="to[0]"),
    Bad("send", {"to": "root@[127.0.0.1]"}, field="to[0]"),
    Bad(
        "send", {"to": TO, "cc": ["zo\u0085ë@example.org"]}, field="cc[0]"
    ),  # a non-ASCII local part is fine, a control is not
    # attachments
    Bad("send", {**OK, "attachments": [{"content": "not base64!!"}]}, field="attachments[0].content"),
    Bad("send", {**OK, "attachments": [{"content": "aGVsbG8"}]}, field="attachments[0].content"),
    Bad("send", {**OK, "attachments": [{"content": B64, "url": "https://example.org/a"}]}, field="attachments[0]"),
    Bad("send", {**OK, "attachments": [{"filename": "a.txt"}]}, field="attachments[0]"),
    Bad("send", {**OK, "attachments": [{"content": B64, "content_disposition": "weird"}]}),
    Bad("send", {**OK, "attachments": [{"content": B64, "filename": "a\r\nb.txt"}]}),
    Bad("reply", {"text": "x", "attachments": [{"content": "***"}]}, field="attachments[0].content"),
    Bad("forward", {**OK, "attachments": [{"content": B64, "url": "https://example.org/a"}]}),
    # headers and labels
    Bad("send", {**OK, "headers": {"X-Bad": "a\r\nBcc: evil@example.org"}}, field="headers"),
    Bad("send", {**OK, "headers": {"From": "me@example.org"}}, field="headers"),
    Bad("send", {**OK, "headers": {"Bad Name": "x"}}, field="headers"),
    Bad("send", {**OK, "headers": {"X-Colon:": "x"}}, field="headers"),
    Bad("send", {**OK, "headers": {"X-Nul": "a\u0000b"}}),
    Bad("send", {**OK, "headers": {"X-Sep": "a\u2028b"}}, field="headers"),
    *(
        Bad("send", {**OK, "headers": {name: "<x@example.org>"}}, field="headers")
        for name in ("reply-to", "In-Reply-To", "REFERENCES", "Sender", "DKIM-Signature", "Content-Type", "Bcc")
    ),
    Bad("forward", {**OK, "headers": {"Subject": "mine"}}, field="headers"),
    Bad("reply", {"text": "x", "headers": {"X-Bad": "a\nb"}}, field="headers"),
    Bad("send", {**OK, "labels": ["sent"]}, field="labels"),
    Bad("send", {**OK, "track_opens": True}, field="track_opens"),
    # Idempotency-Key
    *(
        Bad(action, OK if action != "reply-all" else {"text": "x"}, idempotency_key="k" * 257)
        for action in ("send", "reply", "reply-all", "forward")
    ),
    Bad("send", OK, idempotency_key=""),
    Bad("send", OK, idempotency_key="has space"),
]


@pytest.mark.parametrize("case", BAD, ids=str)
def test_bad_bodies_get_400_and_store_nothing(scene: Scene, case: Bad) -> None:
    path = send_path(scene.sender) if case.action == "send" else message_path(scene.sender, scene.sent_id, case.action)
    headers = {} if case.idempotency_key is None else {"Idempotency-Key": case.idempotency_key}
    before = scene.state()
    if case.raw is not None:
        headers["Content-Type"] = "application/json"
        response = scene.client.post(path, content=case.raw, headers=headers)
    else:
        response = scene.client.post(path, json=case.body, headers=headers)
    body = assert_error(response, 400, "validation_error")
    if case.field is not None:
        paths = [item["path"] for item in body["errors"]]
        assert any(p == case.field or p.startswith((f"{case.field}.", f"{case.field}[")) for p in paths), paths
    assert scene.state() == before


# --- delivery results → labels, events (spec §4.1), send-block entries ----------------------------------------------


def outbox_events(scene: Scene, row_id: str) -> list[tuple[str, dict[str, Any]]]:
    with scene.runtime.engine.connect() as connection:
        rows = connection.execute(
            select(outbox.c.event_type, outbox.c.data)
            .where(outbox.c.message_row_id == row_id)
            .order_by(outbox.c.created_at, outbox.c.event_id)
        ).all()
    return [(str(row.event_type), dict(row.data or {})) for row in rows]


def labels_of(scene: Scene, inbox_id: str, message_id: str) -> list[str]:
    response = scene.client.get(f"/v0/inboxes/{inbox_id}/messages/{message_id}")
    assert response.status_code == 200, response.text
    return list(response.json()["labels"])


def test_delivery_results_become_labels_events_and_suppressions(scene: Scene) -> None:
    outbound = scene.runtime.services.outbound
    outbound.claim(100)  # the scene's own sends are out of the way (leased for the rest of the test)
    good, gone, later = "good@example.org", "gone@example.org", "later@example.net"
    response = scene.post(send_path(scene.sender), {"to": [good, gone], "cc": later, "text": "x"})
    assert response.status_code == 200, response.text
    message_id = response.json()["message_id"]
    with scene.runtime.engine.connect() as connection:
        row_id: str = connection.execute(
            select(messages.c.row_id).where(messages.c.message_id == message_id, messages.c.inbox_id == scene.sender)
        ).scalar_one()
    assert outbox_events(scene, row_id) == [("message.sent", {"recipients": [good, gone, later]})]

    jobs = {job.domain: job for job in outbound.claim(100) if job.row_id == row_id}
    assert sorted(jobs) == ["example.net", "example.org"]
    assert sorted(jobs["example.org"].recipients) == [gone, good]
    assert jobs["example.org"].mail_from.startswith(f"bounces={row_id}.")
    assert jobs["example.org"].mail_from.endswith("@postroom.localhost")
    assert outbound.claim(100) == []  # leased: nobody else gets them

    outbound.record(
        jobs["example.org"],
        [
            DeliveryResult(good, "delivered", 250, "2.0.0 OK"),
            DeliveryResult(gone, "permanent", 550, "5.1.1 <gone@example.org>: user unknown"),
        ],
    )
    outbound.record(jobs["example.net"], [DeliveryResult(later, "temporary", 451, "4.3.0 try later")])
    assert set(labels_of(scene, scene.sender, message_id)) == {"sent", "delivered", "bounced", "delayed"}
    events = outbox_events(scene, row_id)[1:]
    assert ("message.delivered", {"recipients": [good]}) in events
    assert (
        "message.bounced",
        {"type": "Permanent", "sub_type": "NoEmail", "recipients": [{"address": gone, "status": "5.1.1"}]},
    ) in events
    assert len(events) == 2  # a delay is a label, not an event
    with scene.runtime.engine.connect() as connection:
        suppressed = connection.execute(select(list_entries)).mappings().all()
        retry = connection.execute(select(delivery_jobs).where(delivery_jobs.c.row_id == row_id)).mappings().one()
    # The hard bounce is the organization's read-only send-block entry.
    assert [(e["entry"], e["direction"], e["list_type"], e["read_only"]) for e in suppressed] == [
        (gone, "send", "block", True)
    ]
    assert suppressed[0]["scope_id"] == suppressed[0]["organization_id"]
    assert retry["recipients"] == [later]
    assert retry["lease"] is None
    assert retry["last_error"] == "4.3.0 try later"

    # A result recorded under a lease that is no longer the job's changes nothing.
    stale = jobs["example.net"]
    outbound.record(stale, [DeliveryResult(later, "delivered", 250, "2.0.0 OK")])
    assert "delivered" in labels_of(scene, scene.sender, message_id)
    assert len(outbox_events(scene, row_id)) == 3

    # The suppressed address is refused at the API, alone or among others.
    for body in ({"to": gone, "text": "x"}, {"to": good, "bcc": [gone.upper()], "text": "x"}):
        assert_error(scene.post(send_path(scene.sender), body), 403, "message_rejected")


def test_mail_queued_before_an_address_was_suppressed_is_rejected_not_sent(scene: Scene) -> None:
    outbound = scene.runtime.services.outbound
    outbound.claim(100)
    gone = "gone@example.org"
    sent = []
    for text in ("first", "second"):
        response = scene.post(send_path(scene.sender), {"to": gone, "text": text})
        assert response.status_code == 200, response.text
        sent.append(response.json()["message_id"])
    first, second = sorted(outbound.claim(100), key=lambda job: job.created_at)
    assert outbound.prepare(first).rejected == []
    outbound.record(first, [DeliveryResult(gone, "permanent", 550, "550 5.1.1 user unknown")])

    screened = outbound.prepare(second).rejected
    assert [(r.address, r.outcome) for r in screened] == [(gone, "rejected")]
    outbound.record(second, screened)
    labels = labels_of(scene, scene.sender, sent[1])
    assert "rejected" in labels
    assert "bounced" not in labels
    events = outbox_events(scene, second.row_id)
    assert [event_type for event_type, _ in events] == ["message.sent", "message.rejected"]
    assert gone in events[1][1]["reason"]
    with scene.runtime.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(delivery_jobs)).scalar_one() == 2  # the scene's
