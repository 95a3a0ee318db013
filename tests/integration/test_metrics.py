"""The Metrics API in-process on both databases with a clock the tests move: buckets and their edges, running
totals through deletes, rates over their window, scopes, permissions, limits and errors (spec §3.13)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient
from sqlalchemy import inspect

from postroom.domain.events import MESSAGE_BOUNCED, MESSAGE_SENT, OutboxEvent
from postroom.domain.ids import new_id
from postroom.runtime import Runtime
from postroom.storage.migrate import alembic_config
from tests.integration.test_mail_api import deliver, new_inbox
from tests.support.clock import ManualClock

START = datetime(2026, 3, 10, 12, 0, 30, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


def iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def at(hour: int, minute: int = 0, second: int = 0) -> datetime:
    return START.replace(hour=hour, minute=minute, second=second)


def received(client: TestClient, path: str = "/v0", **params: object) -> list[tuple[str, int]]:
    query = {"event_types": '["message.received"]', "start": iso(at(11)), "end": iso(at(14)), **params}
    response = client.get(f"{path}/metrics/events", params=query)
    assert response.status_code == 200, response.text
    return [(point["timestamp"], point["count"]) for point in response.json()["message.received"]]


def test_events_fall_in_the_bucket_holding_them(client: TestClient, runtime: Runtime, clock: ManualClock) -> None:
    first, second = new_inbox(client), new_inbox(client)
    deliver(runtime, first, "a")
    deliver(runtime, second, "b")
    clock.advance(minutes=59, seconds=29)  # 12:59:59, the last second of the 12:00 bucket
    deliver(runtime, first, "c")
    clock.advance(seconds=1)  # 13:00:00, the first of the next
    deliver(runtime, first, "d")
    clock.advance(minutes=30)

    hourly = [("2026-03-10T11:00:00Z", 0), ("2026-03-10T12:00:00Z", 3), ("2026-03-10T13:00:00Z", 1)]
    assert received(client, period=3600) == hourly
    assert received(client, period=3600, descending="true") == list(reversed(hourly))
    assert received(client, period=3600, descending="true", limit=1) == [("2026-03-10T13:00:00Z", 1)]
    assert received(client, period=1800)[2:5] == [
        ("2026-03-10T12:00:00Z", 2),
        ("2026-03-10T12:30:00Z", 1),
        ("2026-03-10T13:00:00Z", 1),
    ]
    # Without a period: each minute that counted something.
    assert received(client) == [("2026-03-10T12:00:00Z", 2), ("2026-03-10T12:59:00Z", 1), ("2026-03-10T13:00:00Z", 1)]
    assert received(client, f"/v0/inboxes/{second}", period=3600)[1] == ("2026-03-10T12:00:00Z", 1)
    assert sum(n for _, n in received(client, f"/v0/inboxes/{first}", period=3600)) == 3
    pod_id = client.get(f"/v0/inboxes/{first}").json()["pod_id"]
    assert received(client, f"/v0/pods/{pod_id}", period=3600) == hourly

    everything = client.get("/v0/metrics/events", params={"start": iso(at(11)), "period": 3600}).json()
    assert set(everything) == {
        "message.received",
        "message.received.spam",
        "message.received.blocked",
        "message.received.unauthenticated",
        "message.sent",
        "message.delivered",
        "message.bounced",
        "message.complained",
        "message.rejected",
        "domain.verified",
    }
    assert [point["count"] for point in everything["message.sent"]] == [0, 0, 0]


def usage(client: TestClient, path: str, *types: str) -> dict[str, list[int]]:
    params = {"usage_types": list(types), "start": iso(at(11)), "end": iso(at(15)), "period": 3600}
    response = client.get(f"{path}/metrics/usage", params=params)
    assert response.status_code == 200, response.text
    return {kind: [point["value"] for point in points] for kind, points in response.json().items()}


def test_usage_is_a_running_total_through_deletes(client: TestClient, runtime: Runtime, clock: ManualClock) -> None:
    inbox_id = new_inbox(client)
    first = deliver(runtime, inbox_id, "one")
    deliver(runtime, inbox_id, "reply", reply_to=first)  # same thread
    clock.advance(hours=1)
    deliver(runtime, inbox_id, "two")
    clock.advance(hours=1)
    assert client.delete(f"/v0/inboxes/{inbox_id}/messages/{first}").status_code == 204
    clock.advance(hours=1)

    inbox = usage(client, f"/v0/inboxes/{inbox_id}", "message_count", "thread_count", "storage_bytes")
    assert inbox["message_count"] == [0, 2, 3, 2]
    assert inbox["thread_count"] == [0, 1, 2, 2]
    bytes_now = inbox["storage_bytes"][-1]
    assert 0 < inbox["storage_bytes"][1] < inbox["storage_bytes"][2]
    assert bytes_now < inbox["storage_bytes"][2]
    points = client.get(
        f"/v0/inboxes/{inbox_id}/metrics/usage", params={"start": iso(at(11)), "end": iso(at(15)), "period": 3600}
    ).json()
    assert set(points) == {"message_count", "thread_count", "storage_bytes"}
    assert [p["timestamp"] for p in points["message_count"]][-1] == "2026-03-10T15:00:00Z"

    organization = usage(client, "/v0", "message_count", "inbox_count", "pod_count")
    assert organization == {"message_count": [0, 2, 3, 2], "inbox_count": [0, 1, 1, 1], "pod_count": [0, 1, 1, 1]}
    assert client.delete(f"/v0/inboxes/{inbox_id}").status_code == 204
    clock.advance(hours=1)
    later = client.get(
        "/v0/metrics/usage", params={"usage_types": '["message_count","inbox_count","storage_bytes"]', "period": 3600}
    ).json()
    assert [later[kind][-1]["value"] for kind in ("message_count", "inbox_count", "storage_bytes")] == [0, 0, 0]


def outcome(runtime: Runtime, event_type: str, recipients: list[object], when: datetime, inbox_id: str) -> None:
    with runtime.factory(write=True) as uow:
        found = uow.inboxes.get(inbox_id)
        assert found is not None
        data: dict[str, object] = {"recipients": recipients}
        event = OutboxEvent(new_id("evt"), event_type, found.organization_id, found.pod_id, inbox_id, None, when, data)
        uow.outbox.add(event)
        uow.commit()


def test_rates_divide_bounced_by_sent_recipients_over_the_window(client: TestClient, runtime: Runtime) -> None:
    inbox_id = new_inbox(client)
    outcome(
        runtime, MESSAGE_SENT, ["a@example.org", "b@example.org", "c@example.org", "d@example.org"], at(9, 5), inbox_id
    )
    outcome(runtime, MESSAGE_BOUNCED, [{"address": "a@example.org", "status": "5.1.1"}], at(10, 59), inbox_id)
    params = {"start": iso(at(9)), "end": iso(at(12)), "period": 3600, "window": 7200}
    response = client.get(f"/v0/inboxes/{inbox_id}/metrics/rates", params=params)
    assert response.status_code == 200, response.text
    bounce = [(p["timestamp"], p["rate"], p["sent"]) for p in response.json()["bounce"]]
    assert bounce == [
        ("2026-03-10T10:00:00Z", 0.0, 4),
        ("2026-03-10T11:00:00Z", 0.25, 4),
        ("2026-03-10T12:00:00Z", None, 0),
    ]
    complaint = response.json()["complaint"]
    assert [p["rate"] for p in complaint] == [0.0, 0.0, None]
    only = client.get("/v0/metrics/rates", params={**params, "rate_types": "bounce", "descending": "true"}).json()
    assert list(only) == ["bounce"]
    assert only["bounce"][0]["timestamp"] == "2026-03-10T12:00:00Z"
    default = client.get("/v0/metrics/rates").json()
    # The rolling 24 hours sampled hourly over the last day, and at this moment.
    assert len(default["bounce"]) == 25
    assert default["bounce"][-1]["timestamp"] == "2026-03-10T12:00:30Z"


@pytest.mark.parametrize(
    ("path", "params", "code"),
    [
        ("events", {"start": iso(START - timedelta(days=91))}, "validation_error"),
        ("events", {"start": iso(at(13)), "end": iso(at(12))}, "validation_error"),
        ("events", {"period": 60}, "query_range_too_wide"),  # 24 h in minutes: 1440 buckets
        ("events", {"period": 0}, "validation_error"),
        ("events", {"period": 86401}, "validation_error"),
        ("events", {"event_types": "message.opened"}, "validation_error"),
        ("events", {"limit": 0}, "validation_error"),
        ("usage", {"usage_types": "storage"}, "validation_error"),
        ("rates", {"period": 30}, "validation_error"),
        ("rates", {"window": 5000}, "validation_error"),
        ("rates", {"window": 2595600}, "validation_error"),
        ("rates", {"period": 60, "window": 3600}, "query_range_too_wide"),
    ],
)
def test_bad_queries_are_refused(client: TestClient, path: str, params: dict[str, object], code: str) -> None:
    response = client.get(f"/v0/metrics/{path}", params=params)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == code
    assert response.json()["name"] == "ValidationError"


def test_future_end_is_clamped_and_large_limits_are_capped(client: TestClient) -> None:
    params = {"start": iso(at(11)), "end": iso(at(23)), "period": 3600, "event_types": "message.sent"}
    points = client.get("/v0/metrics/events", params=params).json()["message.sent"]
    assert [p["timestamp"] for p in points] == ["2026-03-10T11:00:00Z", "2026-03-10T12:00:00Z"]
    hours = {"start": iso(START - timedelta(days=30)), "period": 3600, "limit": 5000, "event_types": "message.sent"}
    assert len(client.get("/v0/metrics/events", params=hours).json()["message.sent"]) == 721


def key(client: TestClient, path: str = "/v0", **body: object) -> str:
    response = client.post(f"{path}/api-keys", json={"name": f"k-{uuid.uuid4().hex[:6]}", **body})
    assert response.status_code == 200, response.text
    return str(response.json()["api_key"])


def test_scopes_and_the_metrics_read_permission(client: TestClient, runtime: Runtime) -> None:
    mine, other = new_inbox(client), new_inbox(client)
    deliver(runtime, mine, "mine")
    deliver(runtime, other, "other")
    inbox_key = key(client, f"/v0/inboxes/{mine}")
    as_inbox = {"Authorization": f"Bearer {inbox_key}"}
    params = {"event_types": "message.received", "start": iso(at(12)), "period": 3600}
    seen = client.get("/v0/metrics/events", params=params, headers=as_inbox).json()["message.received"]
    assert seen[0]["count"] == 1  # the organization route narrowed to the key's inbox
    assert client.get(f"/v0/inboxes/{mine}/metrics/events", params=params, headers=as_inbox).status_code == 200
    pod_id = client.get(f"/v0/inboxes/{mine}").json()["pod_id"]
    for path in (f"/v0/inboxes/{other}", f"/v0/pods/{pod_id}", "/v0/inboxes/nobody@postroom.localhost"):
        refused = client.get(f"{path}/metrics/usage", headers=as_inbox)
        assert refused.status_code == 404, path
        assert refused.json()["code"] == "not_found"
    assert client.get("/v0/metrics/usage", params={"usage_types": "pod_count"}, headers=as_inbox).status_code == 400

    no_metrics = key(client, permissions={"inbox_read": True})
    forbidden = client.get("/v0/metrics/rates", headers={"Authorization": f"Bearer {no_metrics}"})
    assert forbidden.status_code == 403
    reader = key(client, permissions={"metrics_read": True})
    assert client.get("/v0/metrics/rates", headers={"Authorization": f"Bearer {reader}"}).status_code == 200


def test_the_migration_fills_the_rollups_from_stored_rows(
    client: TestClient, runtime: Runtime, clock: ManualClock
) -> None:
    """Upgrading a server that already holds mail reports the same history as counters kept live."""
    inbox_id = new_inbox(client)
    deliver(runtime, inbox_id, "one")
    clock.advance(hours=2, minutes=7)
    deliver(runtime, inbox_id, "two", attach=True)
    params = {"start": iso(at(11)), "period": 1800}
    live = [
        client.get(f"{path}/metrics/{kind}", params=params).json()
        for path in ("/v0", f"/v0/inboxes/{inbox_id}")
        for kind in ("events", "usage")
    ]

    config = alembic_config(runtime.engine)
    parent = ScriptDirectory.from_config(config).get_revision("0013").down_revision
    assert isinstance(parent, str)
    with runtime.engine.connect() as connection:
        connection.info["postroom_write"] = True
        config.attributes["connection"] = connection
        command.downgrade(config, parent)
        assert not inspect(connection).has_table("metric_rollups")
        command.upgrade(config, "head")
        connection.commit()
    backfilled = [
        client.get(f"{path}/metrics/{kind}", params=params).json()
        for path in ("/v0", f"/v0/inboxes/{inbox_id}")
        for kind in ("events", "usage")
    ]
    assert backfilled == live
    assert sum(point["count"] for point in live[0]["message.received"]) == 2
