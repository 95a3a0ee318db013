"""The per-process API key cache: a change made here applies at once, a change made elsewhere within its lifetime."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from postroom.runtime import Runtime, build
from tests.conftest import make_settings
from tests.support.clock import TestClock


def _key(client: TestClient, path: str = "/v0/api-keys", **body: object) -> tuple[str, str]:
    response = client.post(path, json={"name": "cached", **body})
    assert response.status_code == 200, response.text
    created = response.json()
    return str(created["api_key_id"]), str(created["api_key"])


def _status(client: TestClient, secret: str, path: str = "/v0/inboxes") -> int:
    return client.get(path, headers={"Authorization": f"Bearer {secret}"}).status_code


@pytest.fixture
def other_process(database_url: str, tmp_path: Path, clock: TestClock) -> Iterator[TestClient]:
    """A second server on the same database, with its own key cache (and the same clock, to age it)."""
    second: Runtime = build(make_settings(database_url, tmp_path / "second"), migrate=False, clock=clock)
    try:
        with TestClient(second.api(), raise_server_exceptions=False) as client:
            yield client
    finally:
        second.close()


def test_a_key_deleted_or_narrowed_here_stops_working_here_at_once(client: TestClient) -> None:
    key_id, secret = _key(client)
    assert _status(client, secret) == 200
    assert client.patch(f"/v0/api-keys/{key_id}", json={"permissions": {"inbox_read": False}}).status_code == 200
    assert _status(client, secret) == 403
    assert client.delete(f"/v0/api-keys/{key_id}").status_code == 204
    assert _status(client, secret) == 401


def test_an_inbox_key_goes_with_its_inbox_at_once(client: TestClient) -> None:
    inbox_id = client.post("/v0/inboxes", json={"username": "cachedinbox"}).json()["inbox_id"]
    _key_id, secret = _key(client, f"/v0/inboxes/{inbox_id}/api-keys")
    assert _status(client, secret, f"/v0/inboxes/{inbox_id}") == 200
    assert client.delete(f"/v0/inboxes/{inbox_id}").status_code == 204
    assert _status(client, secret, f"/v0/inboxes/{inbox_id}") == 401


def test_a_key_deleted_by_another_process_stops_working_once_the_cache_ages(
    client: TestClient, other_process: TestClient, clock: TestClock
) -> None:
    key_id, secret = _key(client)
    assert _status(other_process, secret) == 200  # read, and remembered, by the second process
    assert client.delete(f"/v0/api-keys/{key_id}").status_code == 204
    assert _status(client, secret) == 401
    # The second process heard nothing: its cached copy answers until it is a second old.
    assert _status(other_process, secret) == 200
    clock.advance(seconds=1)
    assert _status(other_process, secret) == 401


def test_a_failed_change_keeps_the_cache(client: TestClient) -> None:
    """A rolled-back change reports nothing: the key still works (and nothing was revoked)."""
    _key_id, secret = _key(client)
    assert _status(client, secret) == 200
    assert client.delete("/v0/api-keys/key_does_not_exist").status_code == 404
    assert _status(client, secret) == 200


def test_a_principal_from_memory_only_while_the_cache_would_answer(
    client: TestClient, runtime: Runtime, clock: TestClock
) -> None:
    """What the event loop may answer without the database: a well-formed key fresh in the cache, else nothing."""
    access = runtime.services.access
    key_id, secret = _key(client)
    assert access.cached_principal(f"Bearer {secret}") is None  # never read here yet
    assert _status(client, secret) == 200  # read, remembered, used_at written
    principal = access.cached_principal(f"Bearer {secret}")
    assert principal is not None
    assert principal.api_key_id == key_id
    for malformed in (None, "", f"Basic {secret}", "Bearer ", "Bearer pr_unknown"):
        assert access.cached_principal(malformed) is None
    clock.advance(seconds=1)
    assert access.cached_principal(f"Bearer {secret}") is None  # aged: the database answers again
    assert _status(client, secret) == 200
    assert access.cached_principal(f"Bearer {secret}") is not None
    assert client.delete(f"/v0/api-keys/{key_id}").status_code == 204
    assert access.cached_principal(f"Bearer {secret}") is None  # a key change here empties the cache at once
    assert _status(client, secret) == 401
