"""Sending: messages/s from the API call to receipt at a sink SMTP server, and p50/p99 of that latency.

At 1 and 20 concurrent senders through ``POST /v0/inboxes/{id}/messages/send`` of a real ``postroom serve``
(SQLite, delivery via an MX override to a loopback sink), beside a baseline measured in the same run: the same
message handed straight to the sink with aiosmtplib (the floor of the SMTP hop). Prints figures, never asserts.
Run from the repository root: ``.venv/bin/python bench/send.py [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import aiosmtplib
import httpx
from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.server import ServerProcess, free_port  # noqa: E402

TEXT = "Hello from the send benchmark.\n" * 60  # about 2 KB


class TimingSink:
    """Records when each message (by its X-Bench-Id header, or Message-ID) arrives."""

    def __init__(self) -> None:
        self.port = free_port()
        self.arrivals: dict[str, float] = {}
        self._lock = threading.Lock()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd hook)
        now = time.monotonic()
        for line in envelope.content.split(b"\r\n"):
            if not line:
                break
            name, _, value = line.partition(b":")
            if name.lower() in (b"x-bench-id", b"message-id"):
                with self._lock:
                    self.arrivals[value.strip().decode()] = now
        return "250 2.0.0 OK"

    def __enter__(self) -> TimingSink:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()

    async def wait(self, ids: list[str], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if all(i in self.arrivals for i in ids):
                    return
            await asyncio.sleep(0.01)
        raise TimeoutError(f"{sum(i in self.arrivals for i in ids)} of {len(ids)} arrived")


def summary(label: str, starts: dict[str, float], sink: TimingSink, began: float) -> str:
    latencies = sorted((sink.arrivals[key] - start) * 1000 for key, start in starts.items())
    finished = max(sink.arrivals[key] for key in starts)
    rate = len(starts) / (finished - began)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return f"{label:<34} {rate:8.1f} msg/s   p50 {statistics.median(latencies):8.1f} ms   p99 {p99:8.1f} ms"


async def via_api(server: ServerProcess, inbox_id: str, sink: TimingSink, count: int, senders: int) -> str:
    starts: dict[str, float] = {}
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(count):
        queue.put_nowait(n)
    headers = {"Authorization": f"Bearer {server.api_key}"}
    url = f"{server.base_url}/v0/inboxes/{inbox_id}/messages/send"

    async def sender(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            n = queue.get_nowait()
            bench_id = uuid.uuid4().hex
            body = {
                "to": f"r{n}@example.org",
                "subject": f"bench {n}",
                "text": TEXT,
                "headers": {"X-Bench-Id": bench_id},
            }
            started = time.monotonic()
            response = await client.post(url, json=body, headers=headers)
            response.raise_for_status()
            starts[bench_id] = started

    began = time.monotonic()
    async with httpx.AsyncClient(timeout=60) as client:
        await asyncio.gather(*(sender(client) for _ in range(senders)))
    await sink.wait(list(starts), timeout=300)
    return summary(f"API send -> sink, {senders} senders", starts, sink, began)


async def direct(sink: TimingSink, count: int, senders: int) -> str:
    starts: dict[str, float] = {}
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(count):
        queue.put_nowait(n)

    async def sender() -> None:
        while not queue.empty():
            n = queue.get_nowait()
            bench_id = uuid.uuid4().hex
            raw = (
                f"From: bench@postroom.localhost\r\nTo: r{n}@example.org\r\nSubject: bench {n}\r\n"
                f"X-Bench-Id: {bench_id}\r\n\r\n{TEXT}"
            ).encode()
            started = time.monotonic()
            await aiosmtplib.send(
                raw,
                sender="bench@postroom.localhost",
                recipients=[f"r{n}@example.org"],
                hostname="127.0.0.1",
                port=sink.port,
            )
            starts[bench_id] = started

    began = time.monotonic()
    await asyncio.gather(*(sender() for _ in range(senders)))
    await sink.wait(list(starts), timeout=300)
    return summary(f"baseline aiosmtplib -> sink, {senders}", starts, sink, began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer messages")
    args = parser.parse_args()
    count = 200 if args.quick else 1000
    with TimingSink() as sink, tempfile.TemporaryDirectory() as data:
        env = {"POSTROOM_MX_OVERRIDES": f"example.org=127.0.0.1:{sink.port}", "POSTROOM_ACCESS_LOG": "false"}
        server = ServerProcess(Path(data), extra_env=env).start()
        try:
            created = httpx.post(
                f"{server.base_url}/v0/inboxes",
                json={"username": "bench"},
                headers={"Authorization": f"Bearer {server.api_key}"},
            )
            created.raise_for_status()
            inbox_id = created.json()["inbox_id"]
            print(f"{count} messages of ~{len(TEXT)} bytes each; SQLite; one `postroom serve` process")
            for senders in (1, 20):
                print(asyncio.run(direct(sink, count, senders)))
                print(asyncio.run(via_api(server, inbox_id, sink, count, senders)))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
