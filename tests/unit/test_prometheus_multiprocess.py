"""Multiprocess mode: counters recorded by two processes sharing PROMETHEUS_MULTIPROC_DIR add up in one scrape, and
the live gauges of a process that ended are dropped."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

RECORD = """
import os
from postroom.observability.collectors import SMTP_MESSAGES, WEBSOCKET_CLIENTS
from postroom.observability.exposition import process_exited
SMTP_MESSAGES.labels("accepted").inc({n})
WEBSOCKET_CLIENTS.inc()
if {ended}:
    process_exited(os.getpid())
"""
RENDER = """
import sys
from postroom.domain.metrics import Backlog
from postroom.observability.exposition import Exposition
sys.stdout.write(Exposition(lambda: Backlog(3, 1, 12.5, 0, 0.0, 0)).render().decode())
"""


def run(code: str, directory: Path) -> str:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    return subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True).stdout


def test_two_processes_add_up_in_one_scrape(tmp_path: Path) -> None:
    run(RECORD.format(n=2, ended=False), tmp_path)
    run(RECORD.format(n=3, ended=True), tmp_path)
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(run(RENDER, tmp_path))
        for sample in family.samples
    }
    assert samples[("postroom_smtp_messages_total", (("outcome", "accepted"),))] == 5
    assert samples[("postroom_websocket_clients", ())] == 1  # the process that ended no longer counts
    assert samples[("postroom_outbound_queue_depth", ())] == 3
    assert samples[("postroom_outbound_oldest_due_age_seconds", ())] == 12.5
