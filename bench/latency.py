"""Event latency: from the end of SMTP DATA to the webhook POST arriving and to the websocket frame arriving.

Starts a real ``postroom serve`` (SQLite, or PostgreSQL with ``--postgres``), a webhook receiver and a websocket
client in this process (one clock for every timestamp), sends messages one after another over one SMTP session
and prints p50/p99/max. Prints figures only, never asserts. Run from the repository root:
``.venv/bin/python bench/latency.py [--count 1000] [--postgres]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import smtplib
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import websockets

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # `tests.support` starts the real `postroom serve` process

from tests.support.databases import postgres_database  # noqa: E402
from tests.support.server import ServerProcess  # noqa: E402

ENV = {"POSTROOM_ALLOW_PRIVATE_URLS": "true", "POSTROOM_ACCESS_LOG": "false", "POSTROOM_LOG_LEVEL": "warning"}


def start_receiver(arrivals: dict[str, float]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            arrived = time.perf_counter()
            arrivals.setdefault(json.loads(body)["message"]["subject"], arrived)
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def send_all(port: int, inbox: str, count: int, data_ends: dict[str, float], replies: dict[str, float]) -> None:
    """One SMTP session; ``data_ends`` gets the moment each message's final "." left the client."""
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as smtp:
        smtp.ehlo()
        for n in range(count):
            subject = f"latency {n}"
            message_id = f"<lat-{n}-{time.time_ns()}@example.com>"
            raw = f"From: bench@example.com\r\nTo: {inbox}\r\nSubject: {subject}\r\nMessage-ID: {message_id}\r\n\r\n"
            raw += f"Hello {n}.\r\n"
            smtp.mail("bench@example.com")
            smtp.rcpt(inbox)
            code, _ = smtp.docmd("DATA")
            assert code == 354
            smtp.send(raw.encode() + b".\r\n")
            data_ends[subject] = time.perf_counter()
            code, reply = smtp.getreply()
            replies[subject] = time.perf_counter()
            assert code == 250, reply


async def collect_frames(url: str, api_key: str, inbox: str, arrivals: dict[str, float], ready: asyncio.Event) -> None:
    async with websockets.connect(url, additional_headers={"Authorization": f"Bearer {api_key}"}, max_size=None) as ws:
        await ws.send(json.dumps({"type": "subscribe", "inbox_ids": [inbox], "event_types": ["message.received"]}))
        await ws.recv()
        ready.set()
        async for frame in ws:
            arrived = time.perf_counter()
            arrivals.setdefault(json.loads(frame)["message"]["subject"], arrived)


def percentiles(name: str, ends: dict[str, float], arrivals: dict[str, float]) -> None:
    latencies = sorted((arrivals[key] - ends[key]) * 1000 for key in ends if key in arrivals)
    if not latencies:
        print(f"{name}: nothing arrived")
        return
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, round(0.99 * len(latencies)) - 1)]
    print(
        f"{name:<22} n={len(latencies):>5}  p50={p50:7.2f} ms  p99={p99:7.2f} ms  max={latencies[-1]:7.2f} ms"
        f"  missing={len(ends) - len(latencies)}"
    )


@contextmanager
def database(postgres: bool) -> Iterator[str | None]:
    if not postgres:
        yield None
        return
    with postgres_database() as url:
        yield url


async def run(count: int, postgres: bool) -> None:
    webhook_arrivals: dict[str, float] = {}
    frame_arrivals: dict[str, float] = {}
    data_ends: dict[str, float] = {}
    replies: dict[str, float] = {}
    receiver = start_receiver(webhook_arrivals)
    with tempfile.TemporaryDirectory() as tmp, database(postgres) as url:
        server = ServerProcess(Path(tmp), database_url=url, extra_env=ENV).start()
        try:
            api = httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {server.api_key}"})
            inbox = api.post("/v0/inboxes", json={"username": "latency"}).json()["inbox_id"]
            hook = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
            api.post("/v0/webhooks", json={"url": hook, "event_types": ["message.received"]}).raise_for_status()
            ready = asyncio.Event()
            ws_url = server.base_url.replace("http", "ws", 1) + "/v0"
            frames = asyncio.create_task(collect_frames(ws_url, server.api_key, inbox, frame_arrivals, ready))
            await asyncio.wait_for(ready.wait(), 30)
            started = time.perf_counter()
            await asyncio.to_thread(send_all, server.smtp_port, inbox, count, data_ends, replies)
            sending = time.perf_counter() - started
            deadline = time.monotonic() + 60
            while (len(webhook_arrivals) < count or len(frame_arrivals) < count) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            frames.cancel()
        finally:
            server.stop()
            receiver.shutdown()
    print(f"postroom events latency — {platform.node()}, Python {platform.python_version()}")
    print(f"database: {'PostgreSQL' if postgres else 'SQLite'}; {count} messages sent one after another")
    print(f"SMTP: {count / sending:.1f} messages/s acknowledged")
    percentiles("DATA end -> SMTP 250", data_ends, replies)
    percentiles("DATA end -> webhook", data_ends, webhook_arrivals)
    percentiles("DATA end -> websocket", data_ends, frame_arrivals)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--postgres", action="store_true", help="run on a fresh PostgreSQL database")
    args = parser.parse_args()
    asyncio.run(run(args.count, args.postgres))


if __name__ == "__main__":
    main()
