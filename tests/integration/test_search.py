"""Message and thread search on both databases: matching, highlights, exclusions, validation, paging and scopes."""

from __future__ import annotations

from datetime import datetime
from itertools import count
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select, update

from postroom.runtime import Runtime
from postroom.services.mail.receive import FromInbox, InboundMessage
from postroom.storage.tables import message_labels, messages

# Stored as if another inbox of this server sent it: these tests are about filing, not about trust.
LOCAL = FromInbox("colleague@postroom.localhost")

_serial = count(1)


def make_raw(
    subject: str,
    body: str,
    *,
    sender: str = "Alice Sender <alice@example.org>",
    to: str = "inbox@localhost",
    cc: str | None = None,
    message_id: str | None = None,
    in_reply_to: str | None = None,
    html: bool = False,
) -> tuple[str, bytes]:
    message_id = message_id or f"<search-{next(_serial)}@example.org>"
    lines = [f"From: {sender}", f"To: {to}", f"Subject: {subject}", f"Message-ID: {message_id}"]
    if cc:
        lines.append(f"Cc: {cc}")
    if in_reply_to:
        lines += [f"In-Reply-To: {in_reply_to}", f"References: {in_reply_to}"]
    lines += ["Date: Tue, 01 Oct 2024 10:00:00 +0000", "MIME-Version: 1.0"]
    lines.append(f"Content-Type: text/{'html' if html else 'plain'}; charset=utf-8")
    return message_id, ("\r\n".join(lines) + "\r\n\r\n" + body + "\r\n").encode()


class Mail:
    """Creates inboxes through the API and delivers mail to them in-process."""

    def __init__(self, client: TestClient, runtime: Runtime) -> None:
        self.client = client
        self.runtime = runtime

    def inbox(self, username: str, pod_id: str | None = None) -> str:
        path = f"/v0/pods/{pod_id}/inboxes" if pod_id else "/v0/inboxes"
        response = self.client.post(path, json={"username": username})
        assert response.status_code == 200, response.text
        return str(response.json()["inbox_id"])

    def pod(self, name: str) -> str:
        response = self.client.post("/v0/pods", json={"name": name})
        assert response.status_code == 200, response.text
        return str(response.json()["pod_id"])

    def store(self, inbox_id: str, subject: str, body: str, **options: object) -> str:
        message_id, raw = make_raw(subject, body, to=inbox_id, **options)  # type: ignore[arg-type]
        stored = self.runtime.services.receive.store(
            InboundMessage(raw=raw, mail_from=None, inbox_ids=[inbox_id], origin=LOCAL)
        )
        assert len(stored) == 1
        return message_id

    def label(self, inbox_id: str, message_id: str, label: str) -> None:
        """Adds a label straight in the database (for server-set labels such as spam)."""
        with self.runtime.engine.begin() as connection:
            condition = (messages.c.inbox_id == inbox_id) & (messages.c.message_id == message_id)
            row = connection.execute(select(messages.c.row_id, messages.c.labels).where(condition)).one()
            connection.execute(insert(message_labels).values(row_id=row.row_id, label=label))
            connection.execute(update(messages).where(condition).values(labels=[*row.labels, label]))

    def search(self, path: str, q: str, params: dict[str, Any] | None = None, key: str | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {key}"} if key else None
        response = self.client.get(path, params={"q": q, **(params or {})}, headers=headers)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    def message_ids(self, inbox_id: str, q: str, **params: object) -> list[str]:
        found = self.search(f"/v0/inboxes/{inbox_id}/messages/search", q, params)["messages"]
        assert isinstance(found, list)
        return [item["message_id"] for item in found]


@pytest.fixture
def mail(client: TestClient, runtime: Runtime) -> Mail:
    return Mail(client, runtime)


def test_body_words_and_prefixes_match(mail: Mail) -> None:
    inbox = mail.inbox("words")
    quarterly = mail.store(inbox, "Hello", "The quarterly report is attached for review.")
    other = mail.store(inbox, "Lunch", "Shall we meet at noon tomorrow?")
    html = mail.store(inbox, "Styled", "<p>Your <b>invoice</b> number 4711 is ready</p>", html=True)

    assert mail.message_ids(inbox, "quarterly") == [quarterly]
    assert mail.message_ids(inbox, "quart") == [quarterly]
    assert mail.message_ids(inbox, "REPORT review") == [quarterly]
    assert mail.message_ids(inbox, "report lunch") == []
    assert mail.message_ids(inbox, "tomorrow") == [other]
    assert mail.message_ids(inbox, "invoice 4711") == [html]
    assert mail.message_ids(inbox, "zebra") == []


def test_sender_recipient_and_subject_substrings(mail: Mail) -> None:
    inbox = mail.inbox("fields")
    first = mail.store(inbox, "Contract renewal 2025", "body one", sender="Bob Builder <bob@acme-corp.test>")
    second = mail.store(inbox, "Other", "body two", cc="Carol <carol.k@partners.test>")

    assert mail.message_ids(inbox, "acme-corp") == [first]
    assert mail.message_ids(inbox, "ract renew") == [first]
    assert mail.message_ids(inbox, "ol.k@partn") == [second]
    assert mail.message_ids(inbox, "BUILDER") == [first]


def test_highlights_mark_matched_fragments(mail: Mail) -> None:
    inbox = mail.inbox("marks")
    mail.store(
        inbox,
        "Budget planning",
        "Before the meeting please read the budget draft. " + "Filler words here. " * 10 + "Budgets again.",
        sender="Budget Office <office@example.org>",
    )
    result = mail.search(f"/v0/inboxes/{inbox}/messages/search", "budget")
    assert result["count"] == 1
    assert result["limit"] == 50
    assert "next_page_token" not in result
    (item,) = result["messages"]
    highlights = item["highlights"]
    assert highlights["subject"] == ["**Budget** planning"]
    assert highlights["from"] == ["**Budget** Office <office@example.org>"]
    assert "recipients" not in highlights
    assert len(highlights["text"]) == 2
    assert "**budget**" in highlights["text"][0]
    assert "**Budgets**" in highlights["text"][1]
    assert item["from"] == "Budget Office <office@example.org>"
    assert item["inbox_id"] == inbox

    recipients = mail.search(f"/v0/inboxes/{inbox}/messages/search", "marks@")["messages"][0]
    assert recipients["highlights"] == {"recipients": [f"**marks@**{inbox.split('@')[1]}"]}


def test_spam_trash_blocked_and_unauthenticated_never_match(mail: Mail, client: TestClient) -> None:
    inbox = mail.inbox("hidden")
    kept = mail.store(inbox, "Offer", "special offer inside")
    trashed = mail.store(inbox, "Offer", "special offer inside")
    hidden = {label: mail.store(inbox, "Offer", "special offer inside") for label in ("spam", "blocked")}
    hidden["unauthenticated"] = mail.store(inbox, "Offer", "special offer inside")
    for label, message_id in hidden.items():
        mail.label(inbox, message_id, label)
    response = client.patch(f"/v0/inboxes/{inbox}/messages/{trashed}", json={"add_labels": ["trash"]})
    assert response.status_code == 200, response.text

    assert mail.message_ids(inbox, "offer") == [kept]
    threads = mail.search(f"/v0/inboxes/{inbox}/threads/search", "offer")["threads"]
    assert [thread["last_message_id"] for thread in threads] == [kept]
    assert mail.message_ids(inbox, "offer", include_trash="true") == [kept]


@pytest.mark.parametrize("q", ["x", " y ", "x" * 257])
def test_query_length_is_validated(mail: Mail, client: TestClient, q: str) -> None:
    inbox = mail.inbox("lengths")
    for path in (f"/v0/inboxes/{inbox}/messages/search", "/v0/threads/search"):
        response = client.get(path, params={"q": q})
        assert response.status_code == 400
        assert response.json()["name"] == "ValidationError"
    assert client.get(f"/v0/inboxes/{inbox}/messages/search").status_code == 400
    assert client.get(f"/v0/inboxes/{inbox}/messages/search", params={"q": "x" * 256}).status_code == 200


def test_special_characters_never_fail(mail: Mail) -> None:
    inbox = mail.inbox("special")
    target = mail.store(inbox, 'Re: "quoted" (draft) - v2', "near and or not: column*filter")
    queries = [
        '"quoted',
        '"quoted"',
        "*x",
        "**",
        "col*",
        "-draft",
        "v2 -",
        "subject:quoted",
        "body: near",
        "(draft",
        "draft)",
        "NEAR(quoted draft)",
        "near AND or",
        "OR NOT",
        "a & b | !c",
        "x:* & y",
        "'; DROP TABLE messages; --",
        "%_\\",
        "\u00e9t\u00e9 \U0001f600",
        "nul\x00byte",
    ]
    for q in queries:
        for path in (f"/v0/inboxes/{inbox}/messages/search", "/v0/threads/search"):
            response = mail.client.get(path, params={"q": q})
            assert response.status_code == 200, (q, response.text)
    assert mail.message_ids(inbox, '"quoted"') == [target]
    assert mail.message_ids(inbox, "NEAR AND") == [target]
    assert mail.message_ids(inbox, "column*filter") == [target]
    assert mail.message_ids(inbox, "(draft)") == [target]


def test_pagination_walks_every_match_once_in_relevance_order(mail: Mail, client: TestClient) -> None:
    inbox = mail.inbox("paging")
    in_body = [mail.store(inbox, f"Note {n}", f"the widget number {n}") for n in range(7)]
    in_subject = [mail.store(inbox, f"Widget news {n}", "nothing else") for n in range(3)]
    mail.store(inbox, "Unrelated", "nothing to see")

    seen: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 3}
        if token:
            params["page_token"] = token
        result = mail.search(f"/v0/inboxes/{inbox}/messages/search", "widget", params)
        found = result["messages"]
        assert isinstance(found, list)
        assert result["count"] == len(found) <= 3
        seen += [item["message_id"] for item in found]
        pages += 1
        token = result.get("next_page_token")
        if not token:
            break
    assert pages == 4
    assert seen == [*reversed(in_subject), *reversed(in_body)]

    other = client.get(f"/v0/inboxes/{inbox}/messages/search", params={"q": "other", "page_token": token or "x"})
    assert other.status_code == 400
    first = mail.search(f"/v0/inboxes/{inbox}/messages/search", "widget", {"limit": 3})
    reused = client.get(
        f"/v0/inboxes/{inbox}/messages/search", params={"q": "gadget", "page_token": first["next_page_token"]}
    )
    assert reused.status_code == 400


def test_time_window(mail: Mail, runtime: Runtime) -> None:
    inbox = mail.inbox("window")
    early = mail.store(inbox, "Window", "pane")
    late = mail.store(inbox, "Window", "pane")
    with runtime.engine.connect() as connection:
        stamp: datetime = connection.execute(
            select(messages.c.timestamp).where(messages.c.message_id == late)
        ).scalar_one()
    assert mail.message_ids(inbox, "pane", after=stamp.isoformat()) == [late]
    assert mail.message_ids(inbox, "pane", before=stamp.isoformat()) == [early]


def test_thread_search_at_every_scope(mail: Mail, client: TestClient) -> None:
    pod_a, pod_b = mail.pod("Search A"), mail.pod("Search B")
    a1, a2 = mail.inbox("thread-a1", pod_a), mail.inbox("thread-a2", pod_a)
    b1 = mail.inbox("thread-b1", pod_b)
    root = mail.store(a1, "Kickoff", "let us talk about the roadmap")
    reply = mail.store(a1, "Re: Kickoff", "agreed, roadmap next week", in_reply_to=root)
    mail.store(a1, "Elsewhere", "nothing relevant")
    mail.store(a2, "Roadmap review", "slides")
    mail.store(b1, "Roadmap in pod b", "other pod")

    org = mail.search("/v0/threads/search", "roadmap")
    assert org["count"] == 3
    threads = org["threads"]
    assert isinstance(threads, list)
    assert [thread["subject"] for thread in threads] == ["Roadmap in pod b", "Roadmap review", "Kickoff"]
    kickoff = threads[2]
    assert kickoff["message_count"] == 2
    assert kickoff["highlights"]["text"] == ["agreed, **roadmap** next week"]
    assert kickoff["last_message_id"] == reply

    pod = mail.search(f"/v0/pods/{pod_a}/threads/search", "roadmap")
    assert sorted(thread["inbox_id"] for thread in pod["threads"]) == sorted([a1, a2])
    one = mail.search(f"/v0/inboxes/{a1}/threads/search", "roadmap")
    assert [thread["subject"] for thread in one["threads"]] == ["Kickoff"]

    walked: list[str] = []
    token = None
    while True:
        params: dict[str, Any] = {"limit": 1} | ({"page_token": token} if token else {})
        page = mail.search("/v0/threads/search", "roadmap", params)
        walked += [thread["thread_id"] for thread in page["threads"]]
        token = page.get("next_page_token")
        if not token:
            break
    assert walked == [thread["thread_id"] for thread in threads]


def test_scopes_and_keys(mail: Mail, client: TestClient) -> None:
    pod_a, pod_b = mail.pod("Keys A"), mail.pod("Keys B")
    a1, a2 = mail.inbox("keys-a1", pod_a), mail.inbox("keys-a2", pod_a)
    b1 = mail.inbox("keys-b1", pod_b)
    for inbox in (a1, a2, b1):
        mail.store(inbox, "Scoped", f"secret plan for {inbox}")

    inbox_key = client.post(f"/v0/inboxes/{a1}/api-keys", json={"name": "a1"}).json()["api_key"]
    pod_key = client.post(f"/v0/pods/{pod_a}/api-keys", json={"name": "pod a"}).json()["api_key"]
    no_read = client.post("/v0/api-keys", json={"name": "ro", "permissions": {"inbox_read": True}}).json()["api_key"]

    seen = mail.search("/v0/threads/search", "secret", key=inbox_key)["threads"]
    assert [thread["inbox_id"] for thread in seen] == [a1]
    seen = mail.search("/v0/threads/search", "secret", key=pod_key)["threads"]
    assert sorted(thread["inbox_id"] for thread in seen) == sorted([a1, a2])

    def status(path: str, key: str) -> int:
        response = client.get(path, params={"q": "secret"}, headers={"Authorization": f"Bearer {key}"})
        return int(response.status_code)

    assert status(f"/v0/inboxes/{a2}/messages/search", inbox_key) == 404
    assert status(f"/v0/inboxes/{a2}/threads/search", inbox_key) == 404
    assert status(f"/v0/pods/{pod_a}/threads/search", inbox_key) == 404  # as for the thread list: pods are hidden
    assert client.get(f"/v0/pods/{pod_a}/threads", headers={"Authorization": f"Bearer {inbox_key}"}).status_code == 404
    assert status(f"/v0/inboxes/{b1}/messages/search", pod_key) == 404
    assert status(f"/v0/pods/{pod_b}/threads/search", pod_key) == 404
    assert status("/v0/inboxes/nobody@localhost/messages/search", pod_key) == 404
    assert status(f"/v0/inboxes/{a1}/messages/search", no_read) == 403
    assert status("/v0/threads/search", no_read) == 403


def test_deleted_messages_leave_the_index(mail: Mail, client: TestClient) -> None:
    inbox = mail.inbox("deletes")
    gone = mail.store(inbox, "Ephemeral", "vanishing ink")
    kept = mail.store(inbox, "Ephemeral", "vanishing ink")
    assert client.delete(f"/v0/inboxes/{inbox}/messages/{gone}").status_code == 204
    assert mail.message_ids(inbox, "vanishing") == [kept]
    assert client.delete(f"/v0/inboxes/{inbox}").status_code == 204
    other = mail.inbox("deletes")
    assert mail.message_ids(other, "vanishing") == []


@pytest.mark.filterwarnings("ignore:You should not use the 'timeout' argument with the TestClient")
def test_official_sdk_search(mail: Mail, client: TestClient, root_key: str) -> None:
    agentmail = pytest.importorskip("agentmail")
    inbox = mail.inbox("sdk")
    message_id = mail.store(inbox, "SDK check", "sdk payload words")
    environment = agentmail.AgentMailEnvironment(http="http://testserver", websockets="ws://testserver")
    sdk = agentmail.AgentMail(api_key=root_key, environment=environment, httpx_client=client)
    result = sdk.inboxes.messages.search(inbox_id=inbox, q="payload")
    assert result.count == 1
    assert result.messages[0].message_id == message_id
    threads = sdk.threads.search(q="payload")
    assert threads.count == 1
