"""``/openapi.json`` states what the server does (issue 15, item 7): every path, query and header parameter with its
rules, every status an operation answers in the ErrorResponse shape, no 422 it never sends; 405 names every method.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from postroom.runtime import build
from tests.conftest import make_settings

ERROR = {"$ref": "#/components/schemas/ErrorResponse"}
SENDS_422 = re.compile(
    r"(POST /.*/messages/(send|\{message_id\}/(reply|reply-all|forward))$)|(POST /.*/drafts(/\{draft_id\}/send)?$)"
    r"|(PATCH /.*/drafts/\{draft_id\}$)|(PATCH /.*/threads/\{thread_id\}$)|(POST /v0(/pods/\{pod_id\})?/inboxes$)"
    r"|((POST|PATCH) /v0(/pods/\{pod_id\})?/domains(/\{domain_id\})?$)"
)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    data = tmp_path_factory.mktemp("openapi")
    runtime = build(make_settings(f"sqlite:///{data / 'postroom.db'}", Path(data)))
    with TestClient(runtime.api(), raise_server_exceptions=False) as test_client:
        yield test_client
    runtime.close()


@pytest.fixture(scope="module")
def document(client: TestClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield path, method.upper(), operation


def test_every_path_parameter_is_declared(document: dict[str, Any]) -> None:
    count = 0
    for path, method, operation in operations(document):
        declared = {p["name"] for p in operation.get("parameters") or [] if p["in"] == "path" and p["required"]}
        assert declared == set(re.findall(r"\{([^}]+)\}", path)), f"{method} {path}"
        count += 1
    assert count > 100


def test_errors_are_documented_in_the_error_shape_and_422_only_where_sent(document: dict[str, Any]) -> None:
    assert "HTTPValidationError" not in document["components"]["schemas"]
    assert document["components"]["schemas"]["ErrorResponse"]["required"] == ["name", "message"]
    for path, method, operation in operations(document):
        responses = operation["responses"]
        assert ("422" in responses) == bool(SENDS_422.search(f"{method} {path}")), f"{method} {path}"
        if operation.get("security"):
            assert {"400", "401", "403", "404", "429"} <= set(responses), f"{method} {path}"
        if "{" in path:
            assert "404" in responses
        if "requestBody" in operation:
            assert {"400", "413"} <= set(responses)
        for status, answer in responses.items():
            if int(status) >= 400:
                assert answer["content"]["application/json"]["schema"] == ERROR


def test_query_rules_and_raw_parameters_are_stated(document: dict[str, Any]) -> None:
    def parameter(path: str, method: str, name: str) -> dict[str, Any]:
        found = [p for p in document["paths"][path][method]["parameters"] if p["name"] == name]
        assert len(found) == 1, (path, method, name)
        return found[0]

    lists = [
        path for path, method, op in operations(document) if any(p["name"] == "limit" for p in op.get("parameters", []))
    ]
    assert len(lists) > 20
    for path in lists:
        assert parameter(path, "get", "limit")["schema"] == {"type": "integer", "minimum": 1, "title": "Limit"}
    q = parameter("/v0/inboxes/search", "get", "q")
    assert (q["required"], q["schema"]["minLength"], q["schema"]["maxLength"]) == (True, 2, 256)
    messages = "/v0/inboxes/{inbox_id}/messages"
    for name in ("labels", "from", "to", "subject"):
        assert parameter(messages, "get", name)["schema"]["type"] == "array"
    for name in ("senders", "recipients"):
        assert parameter("/v0/threads", "get", name)["in"] == "query"
    assert parameter(f"{messages}/send", "post", "Idempotency-Key")["in"] == "header"
    assert parameter("/v0/lists/{direction}/{list_type}", "get", "direction")["schema"]["enum"] == [
        "send",
        "receive",
        "reply",
    ]
    zone = document["paths"]["/v0/domains/{domain_id}/zone-file"]["get"]["responses"]["200"]["content"]
    assert list(zone) == ["text/plain"]


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/v0/inboxes", "GET, POST"),
        ("PUT", "/v0/inboxes/search", "GET"),
        ("POST", "/v0/inboxes/someone@postroom.localhost", "DELETE, GET, PATCH"),
        ("PUT", "/v0/inboxes/x@postroom.localhost/messages/batch-get", "POST"),
        ("DELETE", "/v0/pods", "GET, POST"),
    ],
)
def test_405_names_every_method_of_the_path(client: TestClient, method: str, path: str, allow: str) -> None:
    response = client.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allow
    assert response.json()["code"] == "method_not_allowed"
