"""The cross-scope matrix over every route of the application, generated from its route table (spec §1.2).

Scopes A and B each hold one of every resource. A's inbox key and A's pod key call every operation:

- naming B's resources in the path (and in id lists of the body), the answer must be exactly the answer for ids
  that exist nowhere (404 for a scoped resource, or a permission refusal that does not depend on the id);
- on routes without resource ids (lists, creates, identity), no id of B may appear in the answer;
- afterwards B's resources are unchanged.

A new route is covered without editing this file; a new request body model needs one example body in BODIES.
The hand-written matrices (test_isolation.py, conformance/test_mail_isolation.py) keep the exact expectations.
The MCP server and the console are not FastAPI routes and are not in this matrix; MCP tools call these routes
in-process with the caller's own key, so the scope rules they meet are the ones checked here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from postroom.runtime import Runtime, build
from tests.conftest import make_settings
from tests.support.clock import TestClock
from tests.support.routes import Operation, operations
from tests.support.scopes import populate

# Routes that take no API key: health probes, and download links whose signed token is the grant.
UNSCOPED = {"/healthz", "/readyz", "/downloads/{token}"}
# Path parameters that select a kind of thing rather than name a resource.
SELECTORS = {"direction", "list_type"}
UNKNOWN = {
    "pod_id": "pod_01nothing",
    "inbox_id": "nothing@postroom.localhost",
    "message_id": "<nothing@example.org>",
    "thread_id": "thd_01nothing",
    "attachment_id": "att_01nothing",
    "draft_id": "drf_01nothing",
    "webhook_id": "wh_01nothing",
    "domain_id": "nothing.example.test",
    "api_key_id": "key_01nothing",
    "entry": "nothing@example.org",
}
HOOK = {"url": "http://127.0.0.1:9/hook", "event_types": ["message.received"]}
# One valid body per request model; "{name}" strings take the id the path names, so ids in bodies cross too.
BODIES: dict[str, object] = {
    "BatchGetBody": {"message_ids": ["{message_id}"]},
    "BatchUpdateBody": {"message_ids": ["{message_id}"], "add_labels": ["matrix"]},
    "CreateApiKeyBody": {"name": "matrix"},
    "CreateDomainBody": {"domain": "matrix.example.test"},
    "CreateDraftBody": {"subject": "matrix"},
    "CreateInboxBody": {},
    "CreateInboxWebhookBody": HOOK,
    "CreateListEntryBody": {"entry": "matrix@example.org"},
    "CreatePodBody": {"name": "matrix"},
    "CreatePodWebhookBody": {**HOOK, "inbox_ids": ["{inbox_id}"]},
    "CreateWebhookBody": {**HOOK, "pod_ids": ["{pod_id}"], "inbox_ids": ["{inbox_id}"]},
    "ForwardBody": {"to": ["matrix@example.org"]},
    "MessageLabelsBody": {"add_labels": ["matrix"]},
    "ReplyAllBody": {"text": "matrix"},
    "ReplyBody": {"text": "matrix"},
    "SendDraftBody": {},
    "SendMessageBody": {"to": ["matrix@example.org"], "subject": "matrix", "text": "matrix"},
    "ThreadLabelsBody": {"add_labels": ["matrix"]},
    "UpdateApiKeyBody": {"name": "matrix"},
    "UpdateDomainBody": {"feedback_enabled": False},
    "UpdateDraftBody": {"subject": "matrix"},
    "UpdateHeadersBody": {"headers": {"X-Matrix": "1"}},
    "UpdateInboxBody": {"display_name": "matrix"},
    "UpdateInboxWebhookBody": {"enabled": False},
    "UpdatePodWebhookBody": {"add_inbox_ids": ["{inbox_id}"]},
    "UpdateWebhookBody": {"add_inbox_ids": ["{inbox_id}"]},
}


def filled(template: object, ids: dict[str, str]) -> object:
    if isinstance(template, str) and template.startswith("{") and template.endswith("}"):
        return ids.get(template[1:-1], template)
    if isinstance(template, list):
        return [filled(item, ids) for item in template]
    if isinstance(template, dict):
        return {key: filled(value, ids) for key, value in template.items()}
    return template


class Matrix:
    def __init__(self, client: TestClient, mine: dict[str, str], theirs: dict[str, str]) -> None:
        self.client = client
        self.mine = mine
        self.theirs = theirs
        self.calls = 0

    def call(self, operation: Operation, caller: str, ids: dict[str, str]) -> Response:
        path = operation.path.format(**{name: quote(ids[name], safe="@<>") for name in operation.path_names})
        model = operation.body_model.__name__ if operation.body_model is not None else None
        body = None
        if model is not None:
            assert model in BODIES, f"{operation}: add an example {model} to BODIES so the matrix can call it"
            body = json.dumps(filled(BODIES[model], ids)).encode()
        headers = {"Authorization": f"Bearer {self.mine[caller]}", "Content-Type": "application/json"}
        self.calls += 1
        return self.client.request(operation.method, path, content=body, headers=headers)

    def leaks(self, response: Response) -> list[str]:
        foreign = {
            value for name, value in self.theirs.items() if name not in SELECTORS and value not in self.mine.values()
        }
        return sorted(value for value in foreign if value in response.text)

    def check(self, operation: Operation, caller: str) -> list[str]:
        names = [name for name in operation.path_names if name not in SELECTORS]
        if not names:
            response = self.call(operation, caller, self.mine)
            leaked = self.leaks(response)
            problems = [f"leaks {leaked}"] if leaked else []
            if response.status_code >= 500:
                problems.append(f"answered {response.status_code}")
            return problems
        problems = []
        # Every id B's; then A's own ids with only the last one B's (an own pod or inbox does not open B's items).
        variants = [dict(self.theirs)]
        if len(names) > 1:
            variants.append({**self.mine, names[-1]: self.theirs[names[-1]]})
        for foreign in variants:
            unknown = {**foreign, **{name: UNKNOWN[name] for name in names if foreign[name] == self.theirs[name]}}
            crossing, nowhere = self.call(operation, caller, foreign), self.call(operation, caller, unknown)
            answer = (crossing.status_code, _code(crossing))
            if crossing.status_code < 400 or answer != (nowhere.status_code, _code(nowhere)):
                problems.append(f"B's ids answer {answer}, unknown ids {(nowhere.status_code, _code(nowhere))}")
            leaked = self.leaks(crossing)
            if leaked:
                problems.append(f"leaks {leaked}")
        return problems


def _code(response: Response) -> object:
    try:
        return response.json().get("code")
    except ValueError:
        return None


@pytest.fixture
def world(database_url: str, tmp_path: Path, clock: TestClock) -> Iterator[Runtime]:
    runtime = build(make_settings(database_url, tmp_path, allow_private_urls=True), migrate=False, clock=clock)
    yield runtime
    runtime.close()


def snapshot(client: TestClient, ids: dict[str, str]) -> dict[str, object]:
    """B's resources as the unrestricted key reads them."""
    inbox, pod = f"/v0/inboxes/{ids['inbox_id']}", f"/v0/pods/{ids['pod_id']}"
    paths = (
        pod,
        inbox,
        f"{inbox}/messages/{ids['message_id']}",
        f"/v0/threads/{ids['thread_id']}",
        f"{inbox}/drafts/{ids['draft_id']}",
        f"/v0/webhooks/{ids['webhook_id']}",
        f"/v0/domains/{ids['domain_id']}",
        f"{inbox}/lists/receive/block/{ids['entry']}",
        f"/v0/api-keys/{ids['api_key_id']}",
    )
    state = {}
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, f"{path}: {response.status_code}"
        state[path] = response.json()
    return state


def test_no_route_crosses_scopes(world: Runtime, capsys: pytest.CaptureFixture[str]) -> None:
    app = world.api()
    with TestClient(app, raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {world.bootstrap.api_key}"
        mine, theirs = populate(client, world, "alpha"), populate(client, world, "beta")
        before = snapshot(client, theirs)
        matrix = Matrix(client, mine, theirs)
        every = [operation for operation in operations(app) if operation.path not in UNSCOPED]
        problems: list[str] = []
        for operation in sorted(every, key=lambda operation: operation.method == "DELETE"):
            for caller in ("inbox_key", "pod_key"):
                problems.extend(f"{operation} as {caller}: {problem}" for problem in matrix.check(operation, caller))
        after = snapshot(client, theirs)
    with capsys.disabled():
        print(f"\nscope matrix: {len(every)} operations, {matrix.calls} cross-scope calls, {len(problems)} problems")
    assert len(every) > 100
    assert not problems, "\n".join(problems)
    changed = [path for path in before if before[path] != after[path]]
    assert not changed, f"B's resources changed: {changed}"
