"""Webhook URLs: private, loopback and link-local targets are refused unless allowed (checked on create)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "https://10.0.0.5/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://192.168.1.20/hook",
        "http://0.0.0.0/hook",
    ],
)
def test_private_targets_are_refused_and_nothing_is_stored(client: TestClient, url: str) -> None:
    response = client.post("/v0/webhooks", json={"url": url, "event_types": ["message.received"]})
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["errors"][0]["path"] == "url"
    assert "private" in body["message"]
    assert client.get("/v0/webhooks").json()["webhooks"] == []


def test_unresolvable_hosts_and_unknown_fields_are_refused(client: TestClient) -> None:
    response = client.post(
        "/v0/webhooks", json={"url": "https://no-such-host.invalid/x", "event_types": ["message.sent"]}
    )
    assert response.status_code == 400
    assert "does not resolve" in response.json()["message"]
    response = client.post("/v0/webhooks", json={"url": "https://x.invalid/", "event_types": ["message.sent"], "x": 1})
    assert response.status_code == 400
    inbox = client.post("/v0/inboxes", json={"username": "urls"}).json()
    response = client.post(
        f"/v0/inboxes/{inbox['inbox_id']}/webhooks",
        json={"url": "https://x.invalid/", "event_types": ["message.sent"], "pod_ids": ["pod_x"]},
    )
    assert response.status_code == 400  # pod_ids is not a field of inbox webhooks
    assert client.get("/v0/webhooks").json()["webhooks"] == []


def test_an_unknown_webhook_is_404(client: TestClient) -> None:
    response = client.patch("/v0/webhooks/wh_missing", json={"enabled": True})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
