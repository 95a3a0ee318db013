"""Sending: messages/s from the API call to receipt at a sink SMTP server, and p50/p99 of that latency.

Closed loop at 1 and 20 concurrent senders through ``POST /v0/inboxes/{id}/messages/send`` of a real
``postroom serve`` (delivery via an MX override to a loopback sink), beside a baseline measured in the same run: the
same message handed straight to the sink with aiosmtplib, a new connection each (the floor of the SMTP hop). With
``--open-loop`` it also offers sends at a fixed rate (half the 20-sender baseline unless a rate is given), whatever
the server's pace, and reports the latency from API call to sink. Also prints the server's CPU time per message.
Prints figures, never asserts. Run from the repository root: ``.venv/bin/python bench/send.py [--quick]
[--open-loop [RATE]] [--postgres | --database-url URL]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosmtplib
import httpx
from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.databases import postgres_database  # noqa: E402
from tests.support.server import ServerProcess, free_port  # noqa: E402

TEXT = "Hello from the send benchmark.\n" * 60  # about 2 KB


class TimingSink:
    """Records when each message (by its X-Bench-Id header, or Message-ID) arrives, and how many connections came."""

    def __init__(self) -> None:
        self.port = free_port()
        self.arrivals: dict[str, float] = {}
        self.connections = 0
        self._lock = threading.Lock()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_EHLO(  # noqa: N802 (aiosmtpd hook)
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        if session.host_name is None:  # the first greeting of a connection
            with self._lock:
                self.connections += 1
        session.host_name = hostname
        return responses

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


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Run:
    label: str
    starts: dict[str, float]
    answered: list[float]  # seconds from call to the API's answer (or to the 250 for the baseline)
    began: float
    cpu: float | None = None  # server CPU seconds used by the run

    def summary(self, sink: TimingSink) -> str:
        latencies = sorted((sink.arrivals[key] - start) * 1000 for key, start in self.starts.items())
        finished = max(sink.arrivals[key] for key in self.starts)
        rate = len(self.starts) / (finished - self.began)
        line = (
            f"{self.label:<38} {rate:7.1f} msg/s   p50 {statistics.median(latencies):7.1f} ms   "
            f"p99 {percentile(latencies, 0.99):7.1f} ms"
        )
        answered = sorted(seconds * 1000 for seconds in self.answered)
        line += f"   (call answered p50 {statistics.median(answered):6.1f} ms p99 {percentile(answered, 0.99):6.1f} ms"
        if self.cpu is not None:
            line += f"; server CPU {self.cpu / len(self.starts) * 1000:5.1f} ms/msg"
        return line + ")"

    def rate(self, sink: TimingSink) -> float:
        return len(self.starts) / (max(sink.arrivals[key] for key in self.starts) - self.began)


def percentile(ordered: list[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


Send = Callable[[int, str], Awaitable[None]]


async def closed_loop(send: Send, count: int, senders: int, label: str) -> Run:
    run = Run(label, {}, [], time.monotonic())
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(count):
        queue.put_nowait(n)

    async def sender() -> None:
        while not queue.empty():
            n = queue.get_nowait()
            bench_id = uuid.uuid4().hex
            started = time.monotonic()
            await send(n, bench_id)
            run.answered.append(time.monotonic() - started)
            run.starts[bench_id] = started

    run.began = time.monotonic()
    await asyncio.gather(*(sender() for _ in range(senders)))
    return run


async def open_loop(send: Send, count: int, rate: float, label: str) -> Run:
    """Start one send every 1/rate seconds on a fixed schedule, however long earlier ones take."""
    run = Run(label, {}, [], time.monotonic())

    async def one(n: int, scheduled: float) -> None:
        bench_id = uuid.uuid4().hex
        await send(n, bench_id)
        run.answered.append(time.monotonic() - scheduled)
        run.starts[bench_id] = scheduled  # latency from when the call was due: a late start counts against us

    tasks = []
    for n in range(count):
        scheduled = run.began + n / rate
        await asyncio.sleep(max(0.0, scheduled - time.monotonic()))
        tasks.append(asyncio.create_task(one(n, scheduled)))
    await asyncio.gather(*tasks)
    return run


def api_sender(client: httpx.AsyncClient, server: ServerProcess, inbox_id: str) -> Send:
    headers = {"Authorization": f"Bearer {server.api_key}"}
    url = f"{server.base_url}/v0/inboxes/{inbox_id}/messages/send"

    async def send(n: int, bench_id: str) -> None:
        body = {"to": f"r{n}@example.org", "subject": f"bench {n}", "text": TEXT, "headers": {"X-Bench-Id": bench_id}}
        response = await client.post(url, json=body, headers=headers)
        response.raise_for_status()

    return send


def direct_sender(sink: TimingSink) -> Send:
    async def send(n: int, bench_id: str) -> None:
        raw = (
            f"From: bench@postroom.localhost\r\nTo: r{n}@example.org\r\nSubject: bench {n}\r\n"
            f"X-Bench-Id: {bench_id}\r\n\r\n{TEXT}"
        ).encode()
        await aiosmtplib.send(
            raw,
            sender="bench@postroom.localhost",
            recipients=[f"r{n}@example.org"],
            hostname="127.0.0.1",
            port=sink.port,
        )

    return send


async def measured(run: Awaitable[Run], sink: TimingSink, pid: int | None) -> Run:
    cpu_before = cpu_seconds(pid) if pid is not None else 0.0
    result = await run
    await sink.wait(list(result.starts), timeout=600)
    if pid is not None:
        result.cpu = cpu_seconds(pid) - cpu_before
    return result


async def bench(
    server: ServerProcess,
    sink: TimingSink,
    count: int,
    senders_list: list[int],
    open_rate: float | None,
    open_loop_on: bool,
) -> None:
    pid = server.process.pid if server.process is not None else None
    async with httpx.AsyncClient(timeout=120) as client:
        created = await client.post(
            f"{server.base_url}/v0/inboxes",
            json={"username": f"bench-{uuid.uuid4().hex[:8]}"},
            headers={"Authorization": f"Bearer {server.api_key}"},
        )
        created.raise_for_status()
        via_api = api_sender(client, server, created.json()["inbox_id"])
        direct = direct_sender(sink)
        await closed_loop(via_api, 20, 4, "warm-up")  # first-use costs (imports, caches) are not what we measure
        baseline_most = 0.0
        for senders in senders_list:
            label = f"baseline aiosmtplib -> sink, {senders}"
            base = await measured(closed_loop(direct, count, senders, label), sink, None)
            print(base.summary(sink), flush=True)
            if senders == max(senders_list):
                baseline_most = base.rate(sink)
            label = f"API send -> sink, {senders} senders"
            api = await measured(closed_loop(via_api, count, senders, label), sink, pid)
            print(api.summary(sink), flush=True)
        if open_loop_on:
            rate = open_rate or baseline_most / 2
            label = f"API send -> sink, open loop {rate:.0f}/s"
            api = await measured(open_loop(via_api, count, rate, label), sink, pid)
            print(api.summary(sink), flush=True)


@contextlib.contextmanager
def database(args: argparse.Namespace) -> Iterator[str | None]:
    if args.postgres:
        with postgres_database() as url:
            yield url
    else:
        yield args.database_url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="200 messages per run instead of 1000")
    parser.add_argument(
        "--open-loop",
        nargs="?",
        const=0.0,
        type=float,
        metavar="RATE",
        help="also offer sends at RATE per second (default: half the baseline at the most senders); report latency",
    )
    parser.add_argument("--senders", default="1,20", help="closed-loop runs at these numbers of senders (default 1,20)")
    parser.add_argument("--database-url", help="SQLAlchemy URL of a database for the server (default: SQLite)")
    parser.add_argument("--postgres", action="store_true", help="create a database on local PostgreSQL, drop it after")
    args = parser.parse_args()
    count = 200 if args.quick else 1000
    with TimingSink() as sink, tempfile.TemporaryDirectory() as data, database(args) as url:
        env = {"POSTROOM_MX_OVERRIDES": f"example.org=127.0.0.1:{sink.port}", "POSTROOM_ACCESS_LOG": "false"}
        server = ServerProcess(Path(data), database_url=url, extra_env=env).start()
        try:
            kind = "PostgreSQL" if url and url.startswith("postgresql") else "SQLite"
            print(f"{count} messages of ~{len(TEXT)} bytes each; {kind}; one `postroom serve` process", flush=True)
            senders = [int(n) for n in args.senders.split(",")]
            asyncio.run(bench(server, sink, count, senders, args.open_loop or None, args.open_loop is not None))
            print(f"connections the sink accepted: {sink.connections}")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
