"""``/metrics`` in-process on both databases: the bearer token and the loopback rule, HTTP requests by route template
and status, rate-limit refusals, and the backlog gauges read from the database at scrape time."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from postroom.api.prometheus import metrics_app
from postroom.runtime import Runtime, build
from tests.conftest import make_settings
from tests.integration.test_mail_api import deliver
from tests.support.clock import TestClock

TOKEN = "scrape-" + uuid.uuid4().hex


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the exposition by name and sorted labels."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def secured(database_url: str, tmp_path: Path, clock: TestClock) -> Iterator[tuple[Runtime, TestClient]]:
    settings = make_settings(
        database_url, tmp_path, prometheus_token=TOKEN, rate_limit_per_second=0.001, rate_limit_burst=3
    )
    runtime = build(settings, migrate=False, clock=clock)
    assert runtime.bootstrap.api_key is not None
    with TestClient(runtime.api(), raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {runtime.bootstrap.api_key}"
        yield runtime, client
    runtime.close()


def scrape(client: TestClient, token: str = TOKEN) -> str:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


def test_the_token_is_required_and_requests_are_counted_by_route(secured: tuple[Runtime, TestClient]) -> None:
    _, client = secured
    for headers in ({"Authorization": ""}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
        refused = client.get("/metrics", headers=headers)
        assert refused.status_code == 401
        assert refused.json()["name"] == "UnauthorizedError"
        assert refused.json()["code"] == "unauthorized"
    assert client.get("/v0/metrics").status_code == 404  # not under /v0

    before = scrape(client)
    route = "/v0/inboxes/{inbox_id}"
    for _ in range(2):
        assert client.get("/v0/inboxes/nobody@postroom.localhost").status_code == 404
    limited = [client.get("/v0/inboxes").status_code for _ in range(3)]
    assert 429 in limited
    after = scrape(client)
    count = "postroom_http_requests_total"
    assert (
        value(after, count, method="GET", route=route, status="404")
        - value(before, count, method="GET", route=route, status="404")
        == 2
    )
    latency = "postroom_http_request_duration_seconds_count"
    assert value(after, latency, method="GET", route=route) - value(before, latency, method="GET", route=route) == 2
    refusals = value(after, "postroom_rate_limit_refusals_total") - value(before, "postroom_rate_limit_refusals_total")
    assert refusals == limited.count(429)
    assert ("postroom_database_connections_in_use", ()) in samples(after)


def test_backlog_gauges_come_from_the_database(secured: tuple[Runtime, TestClient]) -> None:
    runtime, client = secured
    inbox = client.post("/v0/inboxes", json={"username": f"prom-{uuid.uuid4().hex[:8]}"}).json()["inbox_id"]
    before = value(scrape(client), "postroom_outbox_undispatched")
    deliver(runtime, inbox, "one")
    deliver(runtime, inbox, "two")
    after = scrape(client)
    assert value(after, "postroom_outbox_undispatched") == before + 2  # no dispatcher runs in this test
    assert value(after, "postroom_outbound_queue_depth") == 0
    assert value(after, "postroom_outbound_oldest_due_age_seconds") == 0
    assert value(after, "postroom_webhook_backlog") == 0


def test_without_a_token_metrics_are_open_only_on_loopback(database_url: str, tmp_path: Path, clock: TestClock) -> None:
    for host, status in (("127.0.0.1", 200), ("::1", 200), ("0.0.0.0", 401), ("::", 401)):
        runtime = build(
            make_settings(database_url, tmp_path / host.replace(":", "_"), api_host=host), migrate=False, clock=clock
        )
        try:
            with TestClient(runtime.api(), raise_server_exceptions=False) as client:
                response = client.get("/metrics")
                assert response.status_code == status, host
                if status == 401:
                    assert "POSTROOM_PROMETHEUS_TOKEN" in response.json()["fix"]
            listener = metrics_app(runtime.exposition(), token=None)
            with TestClient(listener) as client:  # the separate listener (bound to loopback by default)
                assert "postroom_outbound_queue_depth" in client.get("/metrics").text
            with TestClient(metrics_app(runtime.exposition(), token=TOKEN)) as client:
                assert client.get("/metrics").status_code == 401
                assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
        finally:
            runtime.close()


def test_the_grafana_dashboard_uses_only_exported_metrics(secured: tuple[Runtime, TestClient]) -> None:
    _, client = secured
    described = set(re.findall(r"^# HELP (\S+)", scrape(client), flags=re.MULTILINE))
    dashboard = json.loads((Path(__file__).parents[2] / "deploy" / "grafana" / "postroom.json").read_text())
    queries = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    used = {re.sub(r"_bucket$", "", name) for query in queries for name in re.findall(r"postroom_[a-z_]+", query)}
    assert used
    assert used <= described, used - described
