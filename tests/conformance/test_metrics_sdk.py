"""The Metrics API through the official SDK (spec §3.13): the 9 endpoints at organization, pod and inbox scope,
counting the traffic this test makes (mail in over SMTP, a send delivered to one recipient and bounced by another),
and the SDK's typed errors for a range too wide and an unknown inbox."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from agentmail import AgentMail
from agentmail.core.api_error import ApiError
from agentmail.errors import ValidationError

from tests.conformance.helpers import NO_RETRY, check_error, unique
from tests.support.mail import send_mail
from tests.support.server import ServerProcess
from tests.support.sink import SinkServer

DEADLINE = 30.0
RECEIVED = (
    "message.received",
    "message.received.spam",
    "message.received.blocked",
    "message.received.unauthenticated",
)


class Scope:
    """One of the three SDK accessors for metrics, with its path argument."""

    def __init__(self, sdk: AgentMail, name: str, owner: str | None) -> None:
        self.name, self._owner = name, owner
        self._client: Any = {"organization": sdk.metrics, "pod": sdk.pods.metrics, "inbox": sdk.inboxes.metrics}[name]

    def _call(self, method: str, **options: Any) -> Any:
        args = (self._owner,) if self._owner else ()
        return getattr(self._client, method)(*args, **options)

    def events(self, **options: Any) -> dict[str, int]:
        """Each event type's total over the last hour, in buckets of an hour."""
        start = datetime.now(UTC) - timedelta(minutes=59)
        series = self._call("query_events", start=start, period=3600, **options)
        return {kind: sum(bucket.count for bucket in buckets) for kind, buckets in series.items()}

    def usage(self, **options: Any) -> dict[str, int]:
        series = self._call("query_usage", period=3600, **options)
        return {kind: points[-1].value for kind, points in series.items()}

    def rates(self, **options: Any) -> Any:
        return self._call("query_rates", **options)


def wait_for(scope: Scope, wanted: dict[str, int]) -> dict[str, int]:
    end = time.monotonic() + DEADLINE
    while True:
        counts = scope.events()
        if all(counts.get(kind, 0) >= n for kind, n in wanted.items()) or time.monotonic() > end:
            return counts
        time.sleep(0.1)


def test_metrics_count_the_traffic_at_every_scope(sdk: AgentMail, server: ServerProcess, sink: SinkServer) -> None:
    organization = Scope(sdk, "organization", None)
    before_events, before_usage = organization.events(), organization.usage()
    pod = sdk.pods.create(name=unique("metrics"))
    sender = sdk.pods.inboxes.create(pod.pod_id, username=unique("msend")).inbox_id
    reader = sdk.pods.inboxes.create(pod.pod_id, username=unique("mread")).inbox_id
    for subject in ("one", "two"):
        send_mail(server.smtp_port, reader, subject=subject)
    good, gone = f"{unique('ok')}@example.org", f"{unique('gone')}@example.org"
    sink.script_rcpt(gone, "550 5.1.1 no such user", always=True)
    sdk.inboxes.messages.send(sender, to=[good, gone], subject="Metrics", text="counted")

    pod_scope = Scope(sdk, "pod", pod.pod_id)
    sender_scope, reader_scope = Scope(sdk, "inbox", sender), Scope(sdk, "inbox", reader)
    outcome = {"message.sent": 1, "message.delivered": 1, "message.bounced": 1}
    counts = wait_for(sender_scope, outcome)
    assert {kind: counts[kind] for kind in outcome} == outcome
    assert sum(counts[kind] for kind in RECEIVED) == 0
    assert sum(reader_scope.events()[kind] for kind in RECEIVED) == 2
    in_pod = pod_scope.events()
    assert sum(in_pod[kind] for kind in RECEIVED) == 2
    assert {kind: in_pod[kind] for kind in outcome} == outcome
    assert set(in_pod) == {*RECEIVED, *outcome, "message.complained", "message.rejected", "domain.verified"}
    only = pod_scope.events(event_types=["message.sent"])
    assert only == {"message.sent": 1}
    after = organization.events()
    for kind in outcome:
        assert after[kind] - before_events.get(kind, 0) >= 1

    sent_usage = sender_scope.usage()
    assert (sent_usage["message_count"], sent_usage["thread_count"]) == (1, 1)
    assert sent_usage["storage_bytes"] > 0
    assert reader_scope.usage(usage_types=["message_count", "thread_count"]) == {"message_count": 2, "thread_count": 2}
    in_pod_usage = pod_scope.usage()
    assert set(in_pod_usage) == {"storage_bytes", "message_count", "thread_count", "inbox_count", "domain_count"}
    assert (in_pod_usage["inbox_count"], in_pod_usage["message_count"], in_pod_usage["domain_count"]) == (2, 3, 0)
    org_usage = organization.usage()
    assert org_usage["pod_count"] == before_usage["pod_count"] + 1
    assert org_usage["message_count"] >= before_usage["message_count"] + 3

    rates = sender_scope.rates()
    bounce, complaint = rates["bounce"][-1], rates["complaint"][-1]
    assert (bounce.sent, bounce.rate, complaint.rate) == (2, 0.5, 0.0)
    assert len(rates["bounce"]) == 25  # each hour of the last day, and now
    pod_rates = pod_scope.rates(rate_types=["bounce"], period=600, window=3600, descending=True, limit=2)
    assert list(pod_rates) == ["bounce"]
    assert len(pod_rates["bounce"]) == 2
    assert pod_rates["bounce"][0].timestamp > pod_rates["bounce"][1].timestamp
    assert organization.rates(rate_types=["complaint"])["complaint"][-1].sent >= 2


@pytest.mark.parametrize("scope_name", ["organization", "pod", "inbox"])
def test_metrics_errors_through_the_sdk(sdk: AgentMail, scope_name: str) -> None:
    owner = {"organization": None, "pod": sdk.pods.create(name=unique("merr")).pod_id, "inbox": None}[scope_name]
    if scope_name == "inbox":
        owner = sdk.inboxes.create().inbox_id
    scope = Scope(sdk, scope_name, owner)
    with pytest.raises(ApiError) as too_wide:
        scope._call("query_events", period=60, request_options=NO_RETRY)
    check_error(too_wide.value, 400, "query_range_too_wide", ValidationError)
    with pytest.raises(ApiError) as old:
        scope._call("query_usage", start=datetime.now(UTC) - timedelta(days=91), request_options=NO_RETRY)
    check_error(old.value, 400, "validation_error", ValidationError)
    with pytest.raises(ApiError) as window:
        scope._call("query_rates", period=3600, window=5400, request_options=NO_RETRY)
    check_error(window.value, 400, "validation_error", ValidationError)
    if scope_name != "organization":
        missing = Scope(sdk, scope_name, "nobody@postroom.localhost" if scope_name == "inbox" else "pod_missing")
        with pytest.raises(ApiError) as unknown:
            missing._call("query_rates", request_options=NO_RETRY)
        check_error(unknown.value, 404, "not_found")
