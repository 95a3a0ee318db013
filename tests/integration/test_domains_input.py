"""Bad input to the domain routes and who may do what, table-driven on both databases: every row gets its status and
ErrorResponse and changes nothing stored (domains, inboxes, pods, keys)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine, select

from postroom.runtime import Runtime, build
from postroom.storage.tables import api_keys, custom_domains, inboxes, pods
from tests.conftest import make_settings
from tests.integration.test_bad_input import (
    LONG,
    MALFORMED,
    NO_BODY,
    NOT_OBJECTS,
    Bad,
    Unset,
    bad,
    error_problems,
    missing,
    response_problems,
)
from tests.support.dns_server import DnsTestServer, dns_test_server

State = dict[str, dict[str, object]]
DEFAULT = "postroom.localhost"


@pytest.fixture(scope="module")
def dns_server() -> Iterator[DnsTestServer]:
    with dns_test_server() as server:
        yield server


@pytest.fixture
def domains_runtime(database_url: str, tmp_path: Path, dns_server: DnsTestServer) -> Iterator[Runtime]:
    runtime = build(make_settings(database_url, tmp_path, dns_servers=dns_server.address), migrate=False)
    yield runtime
    runtime.close()


@pytest.fixture
def http(domains_runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(domains_runtime.api(), raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {domains_runtime.bootstrap.api_key}"
        yield client


def stored_state(engine: Engine) -> State:
    result: State = {}
    with engine.connect() as connection:
        for table, key in ((custom_domains, "domain_id"), (pods, "pod_id"), (inboxes, "inbox_id")):
            for row in connection.execute(select(table)).mappings():
                result[f"{table.name}:{row[key]}"] = dict(row)
        for row in connection.execute(select(api_keys)).mappings():
            item = dict(row)
            item.pop("used_at", None)
            result[f"api_keys:{item['api_key_id']}"] = item
    return result


class World:
    """Pods A and B; an organization domain, a domain of each pod; keys of every scope and a read-only key."""

    def __init__(self, client: TestClient, root_key: str) -> None:
        self.client = client
        self.secrets = {"root": root_key}
        self.ids: dict[str, str] = {}
        for pod in ("A", "B"):
            self.ids[pod] = self.ok("POST", "/v0/pods", {"name": pod})["pod_id"]
        self.ok("POST", "/v0/domains", {"domain": "org.test", "client_id": "cid-org"})
        self.ok("POST", "/v0/pods/{A}/domains".format(**self.ids), {"domain": "a.test"})
        self.ok("POST", "/v0/pods/{B}/domains".format(**self.ids), {"domain": "b.test"})
        self.ok("POST", "/v0/domains", {"domain": "extra.test"})
        self.ids["inbox"] = self.ok("POST", "/v0/pods/{A}/inboxes".format(**self.ids), {"username": "in-a"})["inbox_id"]
        self.secrets["pod_a"] = self.key("/v0/pods/{A}/api-keys", None)
        self.secrets["inbox_a"] = self.key("/v0/inboxes/{inbox}/api-keys", None)
        self.secrets["reader"] = self.key("/v0/api-keys", {"domain_read": True})
        token = self.ok("GET", "/v0/domains?limit=1").get("next_page_token")
        assert isinstance(token, str)
        self.ids["token"] = token
        self.ids["pods_token"] = str(self.ok("GET", "/v0/pods?limit=1")["next_page_token"])

    def ok(self, method: str, path: str, body: object = None) -> dict[str, object]:
        response = self.client.request(method, path, json=body)
        assert response.status_code == 200, f"setup {method} {path}: {response.status_code} {response.text}"
        result: dict[str, object] = response.json()
        return result

    def key(self, path: str, permissions: dict[str, bool] | None) -> str:
        body: dict[str, object] = {"name": "k"}
        if permissions is not None:
            body["permissions"] = permissions
        secret = self.ok("POST", path.format(**self.ids), body)["api_key"]
        assert isinstance(secret, str)
        return secret

    def send(self, row: Bad) -> Response:
        headers = {"Authorization": f"Bearer {self.secrets[row.auth]}"} if row.auth else {}
        content = row.raw
        if not isinstance(row.body, Unset):
            content = json.dumps(row.body).encode()
        if content is not None:
            headers["Content-Type"] = "application/json"
        request = self.client.build_request(row.method, row.path.format(**self.ids), content=content, headers=headers)
        if row.auth is None:
            request.headers.pop("Authorization", None)
        return self.client.send(request)


BAD_NAMES = ("", "com", "co.uk", "github.io", "test", "not a domain", "-x.com", "a_b.com", "example.invalid",
             "1.2.3.4", "x.notarealtld", "a..b.com", "*.wild.test", "a@b.test", LONG, "x" * 64 + ".test")  # fmt: skip
ITEM = ("GET", "PATCH", "DELETE")

ROWS: list[Bad] = [
    *[bad("POST", "/v0/domains", {"domain": name}, "domain") for name in BAD_NAMES],
    *[bad("POST", "/v0/pods/{A}/domains", {"domain": name}, "domain") for name in BAD_NAMES[:4]],
    bad("POST", "/v0/domains", {}, "domain"),
    bad("POST", "/v0/domains", {"domain": 5}, "domain"),
    bad("POST", "/v0/domains", {"domain": None}, "domain"),
    bad("POST", "/v0/domains", {"domain": "ok.test", "inbound_enabled": "yes"}, "inbound_enabled"),
    bad("POST", "/v0/domains", {"domain": "ok.test", "subdomains_enabled": 1}, "subdomains_enabled"),
    bad("POST", "/v0/domains", {"domain": "ok.test", "surprise": True}, "surprise"),
    bad("POST", "/v0/domains", {"domain": "ok.test", "client_id": "a@b"}, "client_id"),
    bad("POST", "/v0/domains", {"domain": "ok.test\u0000"}, "domain"),
    bad("POST", "/v0/domains", raw=MALFORMED),
    *[bad("POST", "/v0/domains", raw=raw) for raw in NOT_OBJECTS],
    Bad("POST", "/v0/domains", 400, "validation_error"),  # no body at all: domain is required
    Bad("POST", "/v0/domains", 422, "unprocessable", body={"domain": "ok.test", "tracking_enabled": True}),
    Bad("POST", "/v0/domains", 409, "already_exists", body={"domain": DEFAULT}),
    Bad("POST", "/v0/domains", 409, "already_exists", body={"domain": f"eu.{DEFAULT}"}),
    Bad("POST", "/v0/domains", 409, "already_exists", body={"domain": "a.test"}),  # pod A holds it
    Bad("POST", "/v0/domains", 409, "already_exists", body={"domain": "eu.b.test"}),  # under pod B's
    Bad("POST", "/v0/pods/{A}/domains", 409, "already_exists", body={"domain": "org.test"}),
    Bad("POST", "/v0/pods/{A}/domains", 409, "already_exists", body={"domain": "b.test"}),
    Bad("POST", "/v0/domains", 409, "already_exists", body={"domain": "other.test", "client_id": "cid-org"}),
    Bad("POST", "/v0/domains", 409, "already_exists", body={"domain": "test.b.test"}, auth="pod_a"),
    bad("PATCH", "/v0/domains/org.test", {}, ""),
    bad("PATCH", "/v0/domains/org.test", raw=b""),
    bad("PATCH", "/v0/domains/org.test", {"inbound_enabled": None}, "inbound_enabled"),
    bad("PATCH", "/v0/domains/org.test", {"inbound_enabled": "false"}, "inbound_enabled"),
    bad("PATCH", "/v0/domains/org.test", {"domain": "renamed.test"}, "domain"),
    bad("PATCH", "/v0/domains/org.test", raw=MALFORMED),
    Bad("PATCH", "/v0/domains/org.test", 422, "unprocessable", body={"tracking_enabled": True}),
    Bad("PATCH", f"/v0/domains/{DEFAULT}", 403, "cannot_delete", body={"inbound_enabled": False}),
    Bad("DELETE", f"/v0/domains/{DEFAULT}", 403, "cannot_delete"),
    Bad("DELETE", f"/v0/pods/{{A}}/domains/{DEFAULT}", 403, "cannot_delete"),
    *[
        missing(method, path, {"inbound_enabled": False} if method == "PATCH" else NO_BODY)
        for method in ITEM
        for path in (
            "/v0/domains/unknown.test",
            "/v0/domains/not%20a%20domain",
            "/v0/domains/com",
            "/v0/pods/{A}/domains/b.test",
            "/v0/pods/nope/domains/org.test",
            "/v0/domains/%00.test",
        )
    ],
    missing("POST", "/v0/domains/unknown.test/verify"),
    missing("POST", "/v0/pods/{A}/domains/b.test/verify"),
    missing("GET", "/v0/domains/unknown.test/zone-file"),
    missing("GET", "/v0/pods/{B}/domains/a.test/zone-file"),
    missing("GET", "/v0/pods/nope/domains"),
    missing("POST", "/v0/pods/nope/domains", {"domain": "ok.test"}),
    bad("GET", "/v0/domains?limit=0", field_name="limit"),
    bad("GET", "/v0/domains?limit=x", field_name="limit"),
    bad("GET", "/v0/domains?page_token=garbage", field_name="page_token"),
    bad("GET", "/v0/domains?page_token={pods_token}", field_name="page_token"),
    bad("GET", "/v0/pods/{A}/domains?page_token={token}", field_name="page_token"),
    # who may do what
    Bad("GET", "/v0/domains", 401, "missing_authorization", auth=None),
    Bad("POST", "/v0/domains", 403, "missing_permission", body={"domain": "ok.test"}, auth="reader"),
    Bad("PATCH", "/v0/domains/org.test", 403, "missing_permission", body={"inbound_enabled": False}, auth="reader"),
    Bad("DELETE", "/v0/domains/org.test", 403, "missing_permission", auth="reader"),
    Bad("POST", "/v0/domains/org.test/verify", 403, "missing_permission", auth="reader"),
    Bad("GET", "/v0/domains/b.test", 404, "not_found", auth="pod_a"),
    Bad("DELETE", "/v0/domains/b.test", 404, "not_found", auth="pod_a"),
    Bad("GET", "/v0/pods/{B}/domains", 404, "not_found", auth="pod_a"),
    Bad("POST", "/v0/pods/{B}/domains", 404, "not_found", body={"domain": "ok.test"}, auth="pod_a"),
    Bad("PATCH", "/v0/domains/org.test", 403, "forbidden", body={"inbound_enabled": False}, auth="pod_a"),
    Bad("DELETE", "/v0/domains/org.test", 403, "forbidden", auth="pod_a"),
    Bad("DELETE", "/v0/pods/{A}/domains/org.test", 403, "forbidden"),
    Bad("POST", "/v0/domains", 403, "forbidden", body={"domain": "ok.test"}, auth="inbox_a"),
    Bad("GET", "/v0/domains/a.test", 404, "not_found", auth="inbox_a"),
    Bad("GET", f"/v0/domains/{DEFAULT}", 404, "not_found", auth="inbox_a"),
    Bad("GET", "/v0/domains/a.test/zone-file", 404, "not_found", auth="inbox_a"),
    Bad("DELETE", "/v0/pods/{A}", 409, "cannot_delete"),  # it still holds a.test (and an inbox)
    Bad("POST", "/v0/pods/{B}/inboxes", 422, "unprocessable", body={"username": "x", "domain": "b.test"}),
    Bad("POST", "/v0/pods/{B}/inboxes", 422, "unprocessable", body={"username": "x", "domain": "a.test"}),
    Bad("POST", "/v0/inboxes", 422, "unprocessable", body={"username": "x", "domain": "nobody.test"}),
    Bad("POST", "/v0/inboxes", 422, "unprocessable", body={"username": "x", "domain": f"eu.{DEFAULT}"}),
]


def test_bad_domain_input_is_refused_with_an_error_response_and_changes_nothing(
    http: TestClient, domains_runtime: Runtime
) -> None:
    world = World(http, domains_runtime.bootstrap.api_key or "")
    before = stored_state(domains_runtime.engine)
    failures = []
    for row in ROWS:
        response = world.send(row)
        problems = response_problems(response)
        if response.status_code != row.status:
            problems.append(f"status {response.status_code}, expected {row.status}: {response.text[:300]}")
        else:
            problems += error_problems(response, row.code, row.field_name)
        after = stored_state(domains_runtime.engine)
        if after != before:
            problems.append(f"stored state changed: {sorted(k for k in after if after.get(k) != before.get(k))}")
        before = after
        body = row.raw if isinstance(row.body, Unset) else row.body
        failures += [f"{row.method} {row.path} {str(body)[:80]} auth={row.auth}: {p}" for p in problems]
    assert not failures, f"{len(failures)} of {len(ROWS)} rows failed:\n" + "\n".join(failures)


def test_each_scope_lists_what_it_may_use(http: TestClient, domains_runtime: Runtime) -> None:
    world = World(http, domains_runtime.bootstrap.api_key or "")

    def names(path: str, auth: str = "root") -> list[str]:
        response = http.get(path.format(**world.ids), headers={"Authorization": f"Bearer {world.secrets[auth]}"})
        assert response.status_code == 200, response.text
        return [item["domain_id"] for item in response.json()["domains"]]

    everything = ["extra.test", "b.test", "a.test", "org.test", DEFAULT]
    assert names("/v0/domains") == everything  # newest first; the default domain is as old as the organization
    assert names("/v0/domains?ascending=true") == everything[::-1]
    assert names("/v0/pods/{A}/domains") == ["extra.test", "a.test", "org.test", DEFAULT]
    assert names("/v0/domains", "pod_a") == ["extra.test", "a.test", "org.test", DEFAULT]
    assert names("/v0/domains", "inbox_a") == []
    pages, token = [], None
    for _ in range(10):
        query = f"/v0/domains?limit=2{f'&page_token={token}' if token else ''}"
        body = http.get(query).json()
        pages.append([item["domain_id"] for item in body["domains"]])
        token = body.get("next_page_token")
        if not token:
            break
    assert pages == [everything[:2], everything[2:4], everything[4:]]
    organization = http.get("/v0/organizations").json()
    assert organization["domain_count"] == 5
    pod_view = http.get("/v0/organizations", headers={"Authorization": f"Bearer {world.secrets['pod_a']}"})
    assert pod_view.json()["domain_count"] == 4
    default = http.get(f"/v0/domains/{DEFAULT}").json()
    assert (default["status"], {r["status"] for r in default["records"]}) == ("VERIFIED", {"VALID"})
    assert http.post(f"/v0/domains/{DEFAULT}/verify").json()["status"] == "VERIFIED"
    again = http.post("/v0/domains", json={"domain": "ORG.test"})
    assert again.status_code == 200
    assert again.json()["created_at"] == http.get("/v0/domains/org.test").json()["created_at"]
    by_client_id = http.post("/v0/domains", json={"domain": "org.test", "client_id": "cid-org"})
    assert by_client_id.json()["domain_id"] == "org.test"
