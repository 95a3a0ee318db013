"""Issue 15's hostile-input reproducers, on SQLite and PostgreSQL: each is a 4xx ErrorResponse, never a 500.

Unstorable JSON object keys, datetimes that leave the years 1-9999 once in UTC, a forged download token naming a
path outside the blob store, batch-update on an inbox the key cannot see, and the authentication edges (two
Authorization headers, failed authentications limited per client address).
"""

from __future__ import annotations

import base64
import dataclasses
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from starlette.testclient import WebSocketDenialResponse

from postroom.api.ratelimit import MemoryRateLimits
from postroom.domain.downloads import DownloadGrant, DownloadSigner
from postroom.runtime import Runtime, build
from postroom.services.access.authentication import DOWNLOAD_SECRET_NAME
from tests.conftest import make_settings
from tests.support.clock import TestClock
from tests.support.routes import operations

JSON = {"Content-Type": "application/json"}
LATEST = "9999-12-31T23:59:59-14:00"
EARLIEST = "0001-01-01T00:00:00+14:00"


def assert_error(response: Response, status: int, code: str | None = None) -> dict[str, object]:
    assert response.status_code == status, f"{response.status_code} {response.text}"
    body = response.json()
    assert isinstance(body, dict)
    assert all(isinstance(body.get(key), str) for key in ("name", "code", "message")), body
    if code is not None:
        assert body["code"] == code, body
    return body


@pytest.fixture
def inbox(client: TestClient) -> str:
    inbox_id: str = client.post("/v0/inboxes", json={"username": "hostile"}).json()["inbox_id"]
    return inbox_id


@pytest.mark.parametrize(
    "body",
    [
        '{"metadata":{"\\ud800":1}}',
        '{"display_name":{"\\ud800":1}}',
        '{"metadata":{"k\\u0000":1}}',
        b'{"metadata":{"\xed\xa0\x80":1}}',
    ],
)
def test_an_unstorable_object_key_in_an_inbox_update_is_a_400(
    client: TestClient, inbox: str, body: str | bytes
) -> None:
    response = client.patch(f"/v0/inboxes/{inbox}", content=body, headers=JSON)
    assert_error(response, 400, "validation_error")
    assert "metadata" not in client.get(f"/v0/inboxes/{inbox}").json()


def test_an_unstorable_key_in_api_key_permissions_is_a_400(client: TestClient) -> None:
    key_id = client.post("/v0/api-keys", json={"name": "k"}).json()["api_key_id"]
    response = client.patch(f"/v0/api-keys/{key_id}", content='{"permissions":[{"\\ud800":null}]}', headers=JSON)
    assert_error(response, 400, "validation_error")


def test_every_route_with_a_body_refuses_a_surrogate_key(client: TestClient, runtime: Runtime) -> None:
    """Derived from the route table, so a new body route is covered too (ids do not matter: it fails first)."""
    writes = [operation for operation in operations(runtime.api()) if operation.has_body]
    assert len(writes) > 20
    failures = []
    for operation in writes:
        path = operation.path.replace("{", "").replace("}", "")
        response = client.request(operation.method, path, content='{"\\udfff":{"\\ud800":[1]}}', headers=JSON)
        if response.status_code != 400 or response.json().get("code") != "validation_error":
            failures.append(f"{operation}: {response.status_code} {response.text[:120]}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("moment", [LATEST, EARLIEST])
def test_an_api_key_expiry_outside_the_utc_years_is_a_400(client: TestClient, moment: str) -> None:
    body = assert_error(client.post("/v0/api-keys", json={"name": "x", "expires_at": moment}), 400)
    assert body["errors"][0]["path"] == "expires_at"  # type: ignore[index]
    assert client.get("/v0/api-keys").json()["count"] == 1


@pytest.mark.parametrize("moment", [LATEST, EARLIEST])
def test_a_draft_send_at_outside_the_utc_years_is_a_400(client: TestClient, inbox: str, moment: str) -> None:
    assert_error(client.post(f"/v0/inboxes/{inbox}/drafts", json={"send_at": moment}), 400)
    assert client.get(f"/v0/inboxes/{inbox}/drafts").json()["count"] == 0


WINDOWED = (
    "/v0/inboxes/{inbox}/messages",
    "/v0/inboxes/{inbox}/threads",
    "/v0/threads",
    "/v0/inboxes/{inbox}/drafts",
    "/v0/inboxes/{inbox}/messages/search?q=hello&",
    "/v0/inboxes/{inbox}/threads/search?q=hello&",
)


def test_a_time_window_outside_the_utc_years_is_a_400(client: TestClient, inbox: str) -> None:
    for path in WINDOWED:
        url = path.format(inbox=inbox)
        separator = "" if url.endswith("&") else "?"
        for name, moment in (("before", LATEST), ("after", EARLIEST)):
            response = client.get(f"{url}{separator}{name}={moment.replace('+', '%2B')}")
            body = assert_error(response, 400, "validation_error")
            assert body["errors"][0]["path"] == name, (url, body)  # type: ignore[index]


def test_a_forged_download_token_naming_a_bad_blob_key_is_a_404(client: TestClient, runtime: Runtime) -> None:
    signer = DownloadSigner(runtime.services.access.server_secret(DOWNLOAD_SECRET_NAME))
    for blob_key in ("../../postroom.db", "/etc/passwd", "a//b", ".trash/x", "x\x00y", "\ud800"):
        grant = DownloadGrant(blob_key, datetime.now(UTC) + timedelta(hours=1), "x", "text/plain")
        assert_error(client.get(f"/downloads/{signer.sign(grant)}"), 404, "not_found")


def test_a_download_token_with_an_absurd_expiry_is_a_404(client: TestClient, runtime: Runtime) -> None:
    signer = DownloadSigner(runtime.services.access.server_secret(DOWNLOAD_SECRET_NAME))
    payload = b'["x",99999999999999999999,null,null]'
    encoded = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    assert_error(client.get(f"/downloads/{encoded}.{signer._mac(payload)}"), 404, "not_found")


BATCH = {"message_ids": ["<nothing@example.com>"], "add_labels": ["seen"]}


def test_batch_update_on_an_unknown_inbox_is_a_404(client: TestClient) -> None:
    response = client.post("/v0/inboxes/nobody@postroom.localhost/messages/batch-update", json=BATCH)
    assert_error(response, 404, "not_found")


def test_batch_update_on_an_inbox_outside_the_keys_scope_is_a_404(client: TestClient, inbox: str) -> None:
    other = client.post("/v0/inboxes", json={"username": "elsewhere"}).json()["inbox_id"]
    scoped = client.post(f"/v0/inboxes/{other}/api-keys", json={"name": "scoped"}).json()["api_key"]
    headers = {"Authorization": f"Bearer {scoped}"}
    for verb in ("batch-update", "batch-get"):
        body = BATCH if verb == "batch-update" else {"message_ids": BATCH["message_ids"]}
        response = client.post(f"/v0/inboxes/{inbox}/messages/{verb}", json=body, headers=headers)
        assert_error(response, 404, "not_found")
    own = client.post(f"/v0/inboxes/{other}/messages/batch-update", json=BATCH, headers=headers)
    assert own.status_code == 200, own.text


def test_two_authorization_headers_are_a_400(client: TestClient, root_key: str) -> None:
    headers = [("Authorization", f"Bearer {root_key}"), ("Authorization", "Bearer pr_other")]
    request = client.build_request("GET", "/v0/inboxes")
    request.headers = request.headers.__class__(headers)
    assert_error(client.send(request), 400, "validation_error")
    twice = [("Authorization", f"Bearer {root_key}")] * 2
    request = client.build_request("GET", "/v0/inboxes")
    request.headers = request.headers.__class__(twice)
    assert_error(client.send(request), 400, "validation_error")


# Failed authentications per client address (3 in a burst, one more every 10 s).
BURST = 3


@pytest.fixture
def limited(database_url: str, tmp_path: Path, clock: TestClock) -> Iterator[Runtime]:
    """The budgets in the deployment's store: this process's memory on SQLite, the shared table on PostgreSQL."""
    settings = make_settings(database_url, tmp_path, auth_failures_per_minute=6, auth_failure_burst=BURST)
    runtime = build(settings, migrate=False, clock=clock)
    yield runtime
    runtime.close()


@pytest.fixture
def limited_on_test_clock(limited: Runtime, clock: TestClock) -> Runtime:
    """The budgets in memory on the test clock, which the test moves (PostgreSQL's store reads the database's)."""
    return dataclasses.replace(limited, rate_limits=MemoryRateLimits(seconds=lambda: clock.now().timestamp()))


def _client(runtime: Runtime, address: str) -> TestClient:
    return TestClient(runtime.api(), raise_server_exceptions=False, client=(address, 40000))


def test_failed_authentications_are_limited_per_client_address(
    limited_on_test_clock: Runtime, clock: TestClock
) -> None:
    good = {"Authorization": f"Bearer {limited_on_test_clock.bootstrap.api_key}"}
    app = limited_on_test_clock.api()
    attacker = TestClient(app, raise_server_exceptions=False, client=("192.0.2.1", 40000))
    elsewhere = TestClient(app, raise_server_exceptions=False, client=("192.0.2.2", 40000))  # shares the lifespan
    with attacker:
        assert attacker.get("/v0/inboxes", headers=good).status_code == 200  # this key is known good
        wrong = ({"Authorization": "Bearer pr_wrong"}, {"Authorization": "Basic x"}, {})
        for headers in wrong:
            assert_error(attacker.get("/v0/inboxes", headers=headers), 401)
        for headers in wrong:
            refused = attacker.get("/v0/inboxes", headers=headers)
            assert_error(refused, 429, "rate_limit_exceeded")
            assert refused.headers["Retry-After"] == "10"
        # The refused address's failures lock out neither the key used elsewhere nor the same key from there.
        assert elsewhere.get("/v0/inboxes", headers=good).status_code == 200
        assert attacker.get("/v0/inboxes", headers=good).status_code == 200
        # Another address still has its own budget; the websocket handshake counts and is refused the same way.
        assert_error(elsewhere.get("/v0/inboxes", headers={"Authorization": "Bearer pr_wrong"}), 401)
        with pytest.raises(WebSocketDenialResponse) as denied, attacker.websocket_connect("/v0?api_key=pr_wrong"):
            pass
        assert denied.value.status_code == 429
        clock.advance(seconds=10)
        assert_error(attacker.get("/v0/inboxes", headers={"Authorization": "Bearer pr_wrong"}), 401)
        assert_error(attacker.get("/v0/inboxes", headers={"Authorization": "Bearer pr_wrong"}), 429)


def test_websocket_handshake_failures_use_up_the_address_budget(limited: Runtime) -> None:
    with _client(limited, "192.0.2.3") as stranger:
        for _ in range(BURST):
            with pytest.raises(WebSocketDenialResponse) as denied, stranger.websocket_connect("/v0?api_key=pr_x"):
                pass
            assert denied.value.status_code == 401
        assert_error(stranger.get("/v0/auth/me", headers={"Authorization": "Bearer pr_x"}), 429)


def test_an_inbox_key_listing_the_domains_of_an_unseen_pod_is_a_404(client: TestClient, inbox: str) -> None:
    """Found by the generated scope matrix: this pod route answered an empty 200 for any pod id."""
    scoped = client.post(f"/v0/inboxes/{inbox}/api-keys", json={"name": "scoped"}).json()["api_key"]
    other_pod = client.post("/v0/pods", json={"name": "other"}).json()["pod_id"]
    for pod_id in (other_pod, "pod_01nothing"):
        response = client.get(f"/v0/pods/{pod_id}/domains", headers={"Authorization": f"Bearer {scoped}"})
        assert_error(response, 404, "not_found")


def test_mcp_authentication_failures_use_up_the_address_budget(limited: Runtime) -> None:
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    with _client(limited, "192.0.2.4") as stranger:
        for _ in range(BURST):
            assert_error(stranger.post("/mcp", json=ping, headers={"x-api-key": "pr_wrong"}), 401)
        refused = stranger.post("/mcp", json=ping, headers={"Authorization": "Bearer pr_wrong"})
        assert_error(refused, 429, "rate_limit_exceeded")
        assert refused.headers["Retry-After"] == "10"
        assert_error(stranger.get("/v0/auth/me", headers={"Authorization": "Bearer pr_wrong"}), 429)


def test_console_sign_in_failures_count_for_the_browsers_address(limited: Runtime) -> None:
    """The console signs in through the API in-process; the failures count for the browser, not for loopback."""
    with _client(limited, "192.0.2.5") as browser:
        for _ in range(BURST):
            form = browser.get("/console/sign-in")
            csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
            assert csrf is not None
            answer = browser.post(
                "/console/sign-in",
                data={"csrf": csrf.group(1), "api_key": "pr_wrong"},
                headers={"Origin": "http://testserver"},
            )
            assert answer.status_code == 401
            assert "Sign-in failed: Unknown API key" in answer.text
        assert_error(browser.get("/v0/auth/me", headers={"Authorization": "Bearer pr_wrong"}), 429)
    with _client(limited, "192.0.2.6") as elsewhere:
        assert_error(elsewhere.get("/v0/auth/me", headers={"Authorization": "Bearer pr_wrong"}), 401)


@pytest.mark.parametrize("kind", ["events", "usage", "rates"])
def test_a_metrics_window_outside_the_utc_years_is_a_400(client: TestClient, inbox: str, kind: str) -> None:
    for scope in ("/v0", f"/v0/inboxes/{inbox}"):
        for name, moment in (("end", LATEST), ("start", EARLIEST), ("start", "0.5")):
            response = client.get(f"{scope}/metrics/{kind}?{name}={moment.replace('+', '%2B')}")
            body = assert_error(response, 400, "validation_error")
            assert body["errors"][0]["path"] == name, (scope, kind, body)  # type: ignore[index]
