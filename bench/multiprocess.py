"""Scale-out on PostgreSQL: SMTP ingest and API sends through split ``postroom serve --roles`` processes (2 API,
2 SMTP, 2 workers) beside one all-roles process, measured in the same run on fresh databases of the same server.

Ingest: messages/s of 2 KB mail over 8 concurrent SMTP sessions (spread over the SMTP processes) until every 250.
Sending: messages/s and p50/p99 from the API call to receipt at a loopback sink (MX override), 20 concurrent
senders spread over the API processes. Blobs in one directory all processes share (one host). Prints figures,
never asserts. On a machine with fewer cores than processes the split deployment cannot be faster; the figures
show what it costs and that it works under load.
Run from the repository root: ``.venv/bin/python bench/multiprocess.py [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx

for entry in (Path(__file__).resolve().parent.parent, Path(__file__).resolve().parent):
    if str(entry) not in sys.path:
        sys.path.insert(0, str(entry))

from tests.support.databases import postgres_database  # noqa: E402
from tests.support.server import KEY_LINE, ServerProcess  # noqa: E402

from ingest_client import Outgoing, session  # noqa: E402
from send import TEXT, TimingSink, summary  # noqa: E402

SESSIONS, SENDERS = 8, 20
BODY = ("Hello from the multi-process benchmark.\r\n" * 50).encode()  # about 2 KB
SPLIT = {"api1": "api,dispatcher", "api2": "api", "smtp1": "smtp", "smtp2": "smtp", "worker1": "worker",
         "worker2": "worker"}  # fmt: skip
ONE = {"all": "api,smtp,worker,dispatcher"}


@contextmanager
def deployment(roles: dict[str, str], sink: TimingSink) -> Iterator[tuple[list[ServerProcess], list[ServerProcess]]]:
    """Start the processes on a fresh database; yield (API processes, SMTP processes)."""
    env = {
        "POSTROOM_MX_OVERRIDES": f"example.org=127.0.0.1:{sink.port}",
        "POSTROOM_ACCESS_LOG": "false",
        "POSTROOM_LOG_LEVEL": "warning",
        "PYTHONUNBUFFERED": "1",
    }
    with postgres_database() as url, tempfile.TemporaryDirectory(prefix="postroom-mp-") as data:
        env["POSTROOM_BLOB_URL"] = f"file://{data}/blobs"  # every process reads every blob: one store
        servers = [
            ServerProcess(Path(data) / name, database_url=url, extra_env={**env, "POSTROOM_ROLES": role})
            for name, role in roles.items()
        ]
        try:
            first, *rest = servers
            first.start(timeout=180)
            match = KEY_LINE.search(first.log_path.read_text(errors="replace"))
            first.api_key = first.api_key or (match.group(1) if match else "")
            for server in rest:
                server.api_key = first.api_key
            with ThreadPoolExecutor(max(1, len(rest))) as pool:
                list(pool.map(lambda server: server.start(timeout=180), rest))
            apis = [s for s, role in zip(servers, roles.values(), strict=True) if "api" in role.split(",")]
            smtps = [s for s, role in zip(servers, roles.values(), strict=True) if "smtp" in role.split(",")]
            yield apis, smtps
        finally:
            for server in servers:
                server.stop()


def inbox(api: ServerProcess) -> str:
    response = httpx.post(
        f"{api.base_url}/v0/inboxes",
        json={"username": f"bench{time.time_ns()}"},
        headers={"Authorization": f"Bearer {api.api_key}"},
        timeout=60,
    )
    response.raise_for_status()
    return str(response.json()["inbox_id"])


async def ingest(smtps: list[ServerProcess], rcpt: str, count: int) -> str:
    messages = [
        Outgoing(
            f"From: bench@example.org\r\nTo: {rcpt}\r\nSubject: in {n}\r\n"
            f"Message-ID: <{uuid.uuid4().hex}@example.org>\r\n\r\n".encode(),
            BODY,
        )
        for n in range(count)
    ]
    latencies: list[float] = []
    began = time.perf_counter()
    accepted = await asyncio.gather(
        *(
            session("127.0.0.1", smtps[index % len(smtps)].smtp_port, rcpt, messages[index::SESSIONS], latencies)
            for index in range(SESSIONS)
        )
    )
    elapsed = time.perf_counter() - began
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    return (
        f"{'SMTP ingest, ' + str(SESSIONS) + ' sessions':<34} {sum(accepted) / elapsed:8.1f} msg/s   "
        f"p50 {statistics.median(ordered) * 1000:8.1f} ms   p99 {p99:8.1f} ms"
    )


async def send(apis: list[ServerProcess], inbox_id: str, sink: TimingSink, count: int) -> str:
    starts: dict[str, float] = {}
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(count):
        queue.put_nowait(n)

    async def sender(client: httpx.AsyncClient, api: ServerProcess) -> None:
        url = f"{api.base_url}/v0/inboxes/{inbox_id}/messages/send"
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
            response = await client.post(url, json=body, headers={"Authorization": f"Bearer {api.api_key}"})
            response.raise_for_status()
            starts[bench_id] = started

    began = time.monotonic()
    async with httpx.AsyncClient(timeout=120) as client:
        await asyncio.gather(*(sender(client, apis[index % len(apis)]) for index in range(SENDERS)))
    await sink.wait(list(starts), timeout=600)
    return summary(f"API send -> sink, {SENDERS} senders", starts, sink, began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer messages")
    args = parser.parse_args()
    count = 100 if args.quick else 400
    print(f"{count} messages each way, ~2 KB; PostgreSQL; one shared blob directory")
    with TimingSink() as sink:
        for label, roles in (("one process (all roles)", ONE), ("2 API + 2 SMTP + 2 worker processes", SPLIT)):
            with deployment(roles, sink) as (apis, smtps):
                inbox_id = inbox(apis[0])
                print(f"-- {label}")
                print(asyncio.run(ingest(smtps, inbox_id, count)))
                print(asyncio.run(send(apis, inbox_id, sink, count)))


if __name__ == "__main__":
    main()
