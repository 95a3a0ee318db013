"""The Prometheus text exposition of this process, or of every process on the host in multiprocess mode."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from postroom.domain.metrics import Backlog
from postroom.observability.backlog import BacklogCollector


def multiprocess_mode() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


class Exposition:
    """Renders the collectors; the backlog gauges are read fresh from the database on every scrape."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self, read_backlog: Callable[[], Backlog]) -> None:
        self._backlog = BacklogCollector(read_backlog)

    def render(self) -> bytes:
        registry = CollectorRegistry()
        if multiprocess_mode():
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        else:
            registry.register(_Everything())
        registry.register(self._backlog)
        return generate_latest(registry)


class _Everything(Collector):
    """This process's default registry (collectors, process and platform metrics) seen through another registry."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def process_exited(pid: int) -> None:
    """Let multiprocess mode drop the live gauges of a process that ended."""
    if multiprocess_mode():
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
