"""Gauges read from the database at scrape time: shared work (queues, backlogs) is the same for every process."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from postroom.domain.metrics import Backlog


class BacklogCollector(Collector):
    def __init__(self, read: Callable[[], Backlog]) -> None:
        self._read = read

    def collect(self) -> Iterator[GaugeMetricFamily]:
        backlog = self._read()
        yield GaugeMetricFamily(
            "postroom_outbound_queue_depth", "Outbound delivery jobs waiting (due or scheduled)", value=backlog.jobs
        )
        yield GaugeMetricFamily("postroom_outbound_queue_due", "Outbound delivery jobs due now", value=backlog.jobs_due)
        yield GaugeMetricFamily(
            "postroom_outbound_oldest_due_age_seconds",
            "How long the oldest due delivery job has been waiting (0 when none is due)",
            value=backlog.oldest_due_job_seconds,
        )
        yield GaugeMetricFamily(
            "postroom_webhook_backlog", "Webhook deliveries pending (not yet delivered or dead)", value=backlog.webhooks
        )
        yield GaugeMetricFamily(
            "postroom_webhook_oldest_pending_age_seconds",
            "Age of the event behind the oldest pending webhook delivery (0 when none is pending)",
            value=backlog.oldest_webhook_seconds,
        )
        yield GaugeMetricFamily(
            "postroom_outbox_undispatched", "Events committed but not yet dispatched", value=backlog.undispatched
        )
