"""Inbox create/get/list and message get throughput and p50/p99 latency beside a bare FastAPI endpoint, and list
latency at scale.

Prints figures only, never asserts timings. Run from the repository root: ``.venv/bin/python bench/api.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import math
import os
import platform
import secrets
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, urlencode

import httpx
import psycopg
from sqlalchemy import Engine, create_engine, delete, func, insert, select, text

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # `tests.support.server` starts the real `postroom serve` process

from tests.support.mail import send_mail  # noqa: E402
from tests.support.server import ServerProcess, free_port  # noqa: E402

from postroom.config import Settings  # noqa: E402
from postroom.storage.tables import inboxes, pods  # noqa: E402

POSTGRES_ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
POSTGRES_URL_BASE = "postgresql+psycopg://postgres@127.0.0.1:5432"
DOMAIN = "postroom.localhost"
GET_POOL = 100  # inboxes created up front for the GET benchmark
SCALE_SMALL = 1_000
PAGE = 50
DEEP_PAGE = 20  # rows 951-1000: exists at both sizes (the last page at 1,000); "middle" and "last" move with size
BARE_SYNC = "bare GET (def, threadpool)"
BARE_ASYNC = "bare GET (async def)"
POSTROOM_GET = "postroom GET /v0/inboxes/{id}"
POSTROOM_GET_MESSAGE = "postroom GET .../messages/{id}"
CLIENT_BUSY = 0.75
CONNECTION_FAILED = 599  # stands for a request that failed below HTTP (connection reset or closed)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

RequestSpec = tuple[str, str, bytes | None]  # method, path with query, JSON body
MakeRequest = Callable[[int], RequestSpec]


@dataclass(frozen=True)
class Config:
    requests: int
    warmup: int
    scale_requests: int
    scale_large: int
    concurrency: tuple[int, ...]


FULL = Config(requests=2000, warmup=200, scale_requests=1000, scale_large=100_000, concurrency=(1, 32))
QUICK = Config(requests=300, warmup=50, scale_requests=200, scale_large=10_000, concurrency=(1, 32))


@dataclass(frozen=True)
class Result:
    label: str
    concurrency: int
    latencies: list[float]  # seconds, one per measured request (failed ones included)
    errors: dict[int, int]  # status (599: connection failed) -> count, for statuses >= 400
    seconds: float
    server_cpu: float  # fraction of one core used by the server process during the run
    client_cpu: float  # fraction of one core used by this (load generator) process
    rest_cpu: float  # cores used by everything else on the machine: the database server, other processes

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def percentile_ms(self, q: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return math.nan
        return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))] * 1000

    @property
    def server_ms_per_request(self) -> float:
        """Server CPU time per request: the figure least disturbed by the load generator sharing the machine."""
        return self.server_cpu * self.seconds / len(self.latencies) * 1000 if self.latencies else math.nan

    @property
    def p50(self) -> float:
        return self.percentile_ms(0.50)

    @property
    def p99(self) -> float:
        return self.percentile_ms(0.99)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return math.nan
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


@dataclass(frozen=True)
class Target:
    """One server under load: where it listens, its process (for CPU figures) and the headers every request sends."""

    base_url: str
    pid: int
    headers: dict[str, str]


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent busy since boot (Linux /proc/stat; NaN elsewhere)."""
    try:
        fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]]
    except OSError:
        return math.nan
    user, nice, system, _idle, _iowait, irq, softirq = fields
    return (user + nice + system + irq + softirq) / CLOCK_TICKS


class HttpxDriver:
    """One simulated client: an httpx.AsyncClient limited to one keep-alive HTTP/1.1 connection."""

    def __init__(self, base_url: str, headers: dict[str, str]) -> None:
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        self._client = httpx.AsyncClient(base_url=base_url, headers=headers, limits=limits, timeout=120)

    async def send(self, method: str, path: str, body: bytes | None) -> int:
        extra = {"content-type": "application/json"} if body is not None else None
        try:
            response = await self._client.request(method, path, content=body, headers=extra)
        except httpx.TransportError:
            return CONNECTION_FAILED  # the pool drops the connection; the next request opens a new one
        return response.status_code

    async def aclose(self) -> None:
        await self._client.aclose()


class RawDriver:
    """One simulated client on a bare asyncio stream: HTTP/1.1 keep-alive, Content-Length bodies only.

    Costs the load generator several times less CPU per request than httpx, for when httpx saturates its core.
    """

    def __init__(self, base_url: str, headers: dict[str, str]) -> None:
        url = httpx.URL(base_url)
        self._host, self._port = url.host, url.port or 80
        fixed = {"Host": f"{self._host}:{self._port}", **headers}
        self._head = "".join(f"{name}: {value}\r\n" for name, value in fixed.items())
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def send(self, method: str, path: str, body: bytes | None) -> int:
        try:
            return await self._send(method, path, body)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            await self.aclose()
            return CONNECTION_FAILED

    async def _send(self, method: str, path: str, body: bytes | None) -> int:
        if self._streams is None:
            self._streams = await asyncio.open_connection(self._host, self._port)
        reader, writer = self._streams
        head = f"{method} {path} HTTP/1.1\r\n{self._head}"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        writer.write(head.encode() + b"\r\n" + (body or b""))
        response_head = await reader.readuntil(b"\r\n\r\n")
        length = None
        for line in response_head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length is None:
            raise RuntimeError(f"response without Content-Length: {response_head!r}")
        await reader.readexactly(length)
        return int(response_head[9:12])

    async def aclose(self) -> None:
        if self._streams is not None:
            writer, self._streams = self._streams[1], None
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


Driver = HttpxDriver | RawDriver
DRIVERS: dict[str, type[Driver]] = {"httpx": HttpxDriver, "raw": RawDriver}


async def run_load(
    label: str,
    target: Target,
    make_request: MakeRequest,
    concurrency: int,
    requests: int,
    warmup: int,
    driver: type[Driver],
) -> Result:
    """Warm up (which also opens every connection), then send ``requests`` requests from ``concurrency`` clients."""
    sequence = itertools.count()
    clients = [driver(target.base_url, target.headers) for _ in range(concurrency)]
    try:
        warm_each = max(1, math.ceil(warmup / concurrency))

        async def warm(client: Driver) -> None:
            for _ in range(warm_each):
                await client.send(*make_request(next(sequence)))

        await asyncio.gather(*(warm(client) for client in clients))

        latencies: list[float] = []
        errors: dict[int, int] = {}
        issued = itertools.count()

        async def work(client: Driver) -> None:
            while next(issued) < requests:
                method, path, body = make_request(next(sequence))
                started = time.perf_counter()
                status = await client.send(method, path, body)
                latencies.append(time.perf_counter() - started)
                if status >= 400:
                    errors[status] = errors.get(status, 0) + 1

        server_before, client_before, machine_before = (
            cpu_seconds(target.pid),
            time.process_time(),
            machine_busy_seconds(),
        )
        started = time.perf_counter()
        await asyncio.gather(*(work(client) for client in clients))
        elapsed = time.perf_counter() - started
        server_cpu = (cpu_seconds(target.pid) - server_before) / elapsed
        client_cpu = (time.process_time() - client_before) / elapsed
        rest_cpu = max(0.0, (machine_busy_seconds() - machine_before) / elapsed - server_cpu - client_cpu)
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))
    return Result(label, concurrency, latencies, errors, elapsed, server_cpu, client_cpu, rest_cpu)


def print_results(results: list[Result]) -> None:
    print(
        f"{'operation':<40}{'clients':>8}{'requests':>9}{'errors':>7}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'max ms':>9}{'srv CPU ms/req':>15}{'srv CPU':>8}{'cli CPU':>8}{'rest CPU':>9}"
    )
    for r in results:
        errors = sum(r.errors.values())
        print(
            f"{r.label:<40}{r.concurrency:>8}{len(r.latencies):>9}{errors:>7}{r.rps:>8.0f}{r.p50:>9.2f}{r.p99:>9.2f}"
            f"{r.percentile_ms(1.0):>9.1f}{r.server_ms_per_request:>15.2f}{r.server_cpu:>8.0%}{r.client_cpu:>8.0%}"
            f"{r.rest_cpu:>9.0%}"
        )
    print(
        "(CPU columns: % of one core for the server process, this load generator, and everything else on the machine "
        "- the database server, other processes)"
    )
    for r in results:
        if r.errors:
            print(f"errors of {r.label} at {r.concurrency} clients by status (599: connection failed): {r.errors}")
    busy = [r for r in results if r.client_cpu > CLIENT_BUSY]
    if busy:
        print(
            f"note: the load generator used over {CLIENT_BUSY:.0%} of a core on {len(busy)} row(s), "
            "so those figures partly measure the client (compare with --client raw)"
        )


@contextlib.contextmanager
def bare_server(log_path: Path) -> Iterator[tuple[str, int]]:
    """The baseline app under uvicorn with Postroom's settings: one process, no access log, no server header."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "bench.bare_app:app", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--no-access-log", "--no-server-header", "--log-level", "warning"]
    with log_path.open("ab") as log:
        process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"bare app exited early:\n{log_path.read_text()}")
            try:
                if httpx.get(f"{base_url}/inboxes/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"bare app did not become ready:\n{log_path.read_text()}")
            time.sleep(0.1)
        yield base_url, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def postgres_database(admin_dsn: str) -> Iterator[str]:
    """Create ``postroom_bench_<random>``, yield its SQLAlchemy URL, and drop it afterwards."""
    name = f"postroom_bench_{secrets.token_hex(6)}"
    with psycopg.connect(admin_dsn, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES_URL_BASE}/{name}"
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def json_body(value: dict[str, str]) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def list_path(token: str | None, limit: int = PAGE) -> str:
    query = {"limit": limit} if token is None else {"limit": limit, "page_token": token}
    return f"/v0/inboxes?{urlencode(query)}"


async def stored_message_path(client: httpx.AsyncClient, smtp_port: int, inbox_id: str) -> str:
    """Deliver one message to ``inbox_id`` over SMTP and return its GET path (the id percent-encoded, as the TS
    SDK sends it)."""
    message_id = await asyncio.to_thread(send_mail, smtp_port, inbox_id, "Bench message", "Hello from the bench.\n")
    response = await client.get(f"/v0/inboxes/{inbox_id}/messages/{quote(message_id, safe='')}")
    response.raise_for_status()
    return f"/v0/inboxes/{inbox_id}/messages/{quote(message_id, safe='')}"


async def phase_throughput(
    postroom: Target, bare: Target, smtp_port: int, config: Config, driver: type[Driver]
) -> list[Result]:
    async with httpx.AsyncClient(base_url=postroom.base_url, headers=postroom.headers, timeout=60) as client:
        for index in range(GET_POOL):
            body = {"username": f"get-{index}", "display_name": "Bench Inbox"}
            response = await client.post("/v0/inboxes", json=body)
            if response.status_code != 409:  # 409: left by an earlier run on the same --database-url
                response.raise_for_status()
        message_path = await stored_message_path(client, smtp_port, f"get-0@{DOMAIN}")
    pool = [f"get-{index}@{DOMAIN}" for index in range(GET_POOL)]
    create_tag = itertools.count()
    run_tag = secrets.token_hex(3)
    first_page = list_path(None)

    def create(n: int) -> RequestSpec:
        return (
            "POST",
            "/v0/inboxes",
            json_body({"username": f"bench-{run_tag}-{next(create_tag)}", "display_name": "Bench Inbox"}),
        )

    operations: list[tuple[str, Target, MakeRequest]] = [
        (BARE_SYNC, bare, lambda n: ("GET", f"/inboxes/{pool[n % GET_POOL]}", None)),
        (BARE_ASYNC, bare, lambda n: ("GET", f"/async/inboxes/{pool[n % GET_POOL]}", None)),
        (POSTROOM_GET, postroom, lambda n: ("GET", f"/v0/inboxes/{pool[n % GET_POOL]}", None)),
        (POSTROOM_GET_MESSAGE, postroom, lambda n: ("GET", message_path, None)),
        ("postroom GET /v0/inboxes?limit=50", postroom, lambda n: ("GET", first_page, None)),
        ("postroom POST /v0/inboxes", postroom, create),
    ]
    results = []
    for concurrency in config.concurrency:
        for label, target, make_request in operations:
            result = await run_load(label, target, make_request, concurrency, config.requests, config.warmup, driver)
            results.append(result)
    return results


def print_ratios(results: list[Result], config: Config) -> None:
    by_key = {(r.label, r.concurrency): r for r in results}
    for name, operation in (("GET inbox", POSTROOM_GET), ("GET message", POSTROOM_GET_MESSAGE)):
        print(f"\npostroom {name} vs bare GET (goal: within 2x, i.e. every ratio <= 2.0)")
        print(
            f"{'baseline':<28}{'clients':>8}{'p50 ratio':>11}{'p99 ratio':>11}{'req/s ratio':>13}{'CPU/req ratio':>15}"
        )
        for baseline in (BARE_SYNC, BARE_ASYNC):
            for concurrency in config.concurrency:
                bare, ours = by_key[(baseline, concurrency)], by_key[(operation, concurrency)]
                print(
                    f"{baseline:<28}{concurrency:>8}{ours.p50 / bare.p50:>10.2f}x{ours.p99 / bare.p99:>10.2f}x"
                    f"{bare.rps / ours.rps:>12.2f}x{ours.server_ms_per_request / bare.server_ms_per_request:>14.2f}x"
                )
    print("(latency and CPU ratios are postroom/bare; the req/s ratio is bare/postroom: > 1 means postroom is slower)")


def seed_inboxes(engine: Engine, count: int, start: int) -> float:
    """Bulk-insert ``count`` inboxes into the default pod, newest last, ending at the current time."""
    began = time.perf_counter()
    with engine.begin() as connection:
        pod = connection.execute(select(pods.c.pod_id, pods.c.organization_id).where(pods.c.is_default)).one()
        now = datetime.now(UTC)
        rows = []
        for index in range(count):
            username = f"seed-{start + index:07d}"
            at = now - timedelta(microseconds=10 * (count - index))
            rows.append(
                {
                    "inbox_id": f"{username}@{DOMAIN}",
                    "organization_id": pod.organization_id,
                    "pod_id": pod.pod_id,
                    "username": username,
                    "domain": DOMAIN,
                    "display_name": "Seeded Inbox",
                    "client_id": None,
                    "status": "active",
                    "metadata": None,
                    "created_at": at,
                    "updated_at": at,
                }
            )
        for offset in range(0, count, 10_000):
            connection.execute(insert(inboxes), rows[offset : offset + 10_000])
    return time.perf_counter() - began


def after_seeding(engine: Engine) -> None:
    """PostgreSQL: what autovacuum would soon do anyway (fresh statistics, dead tuples of deleted rows gone)."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE inboxes"))


async def tokens_at(client: httpx.AsyncClient, checkpoints: list[int]) -> tuple[dict[int, str], float, int]:
    """Follow page tokens from the newest inbox, keeping the token found after each checkpoint's number of rows.

    Pages of 100 where they fit, else 50 (a token does not depend on the limit); checkpoints are multiples of 50.
    Returns the tokens, the seconds the walk took and the number of pages fetched.
    """
    tokens: dict[int, str] = {}
    token: str | None = None
    consumed = pages = 0
    began = time.perf_counter()
    for checkpoint in sorted(set(checkpoints)):
        while consumed < checkpoint:
            response = await client.get(list_path(token, 100 if checkpoint - consumed >= 100 else PAGE))
            response.raise_for_status()
            page = response.json()
            token = page.get("next_page_token")
            consumed += page["count"]
            pages += 1
            if token is None:
                raise RuntimeError(f"the list ended after {consumed} inboxes, before {checkpoint}")
        if token is None or consumed != checkpoint:
            raise RuntimeError(f"walked {consumed} inboxes instead of {checkpoint}")
        tokens[checkpoint] = token
    return tokens, time.perf_counter() - began, pages


async def measure_lists(postroom: Target, total: int, config: Config, driver: type[Driver]) -> dict[str, Result]:
    deep, middle, last = (DEEP_PAGE - 1) * PAGE, total // 2 // PAGE * PAGE, total - PAGE
    async with httpx.AsyncClient(base_url=postroom.base_url, headers=postroom.headers, timeout=120) as client:
        tokens, walk_seconds, walk_pages = await tokens_at(client, [deep, middle, last])
        last_page = (await client.get(list_path(tokens[last]))).json()
    print(
        f"  {total:,} inboxes: middle page = rows {middle + 1:,}-{middle + PAGE:,}, "
        f"last page = rows {last + 1:,}-{total:,}"
    )
    print(
        f"  {total:,} inboxes: followed {walk_pages} page tokens to the last page in {walk_seconds:.1f} s; "
        f"last page holds {last_page['count']} inboxes, next_page_token={last_page.get('next_page_token')!r}"
    )
    positions = {
        "first page": None,
        f"page {DEEP_PAGE} (rows {deep + 1}-{deep + PAGE})": tokens[deep],
        "middle page": tokens[middle],
        "last page": tokens[last],
    }
    results = {}
    for name, token in positions.items():
        spec: RequestSpec = ("GET", list_path(token), None)
        results[name] = await run_load(
            f"list {name} @ {total:,}",
            postroom,
            lambda n, spec=spec: spec,
            1,
            config.scale_requests,
            config.warmup // 4,
            driver,
        )
    return results


async def phase_list_scaling(postroom: Target, engine: Engine, config: Config, driver: type[Driver]) -> None:
    print(f"\nlist latency at {SCALE_SMALL:,} vs {config.scale_large:,} inboxes (1 client, limit={PAGE})")
    print("  seeding: bulk SQL INSERT into the inboxes table (SQLAlchemy executemany), not through the API")
    with engine.begin() as connection:
        removed = connection.execute(delete(inboxes)).rowcount
    print(f"  removed the {removed:,} inboxes of the throughput phase first")
    seconds = seed_inboxes(engine, SCALE_SMALL, 0)
    after_seeding(engine)
    print(f"  seeded {SCALE_SMALL:,} inboxes in {seconds:.1f} s")
    small = await measure_lists(postroom, SCALE_SMALL, config, driver)
    seconds = seed_inboxes(engine, config.scale_large - SCALE_SMALL, SCALE_SMALL)
    after_seeding(engine)
    with engine.connect() as connection:
        count = connection.execute(select(func.count()).select_from(inboxes)).scalar_one()
    print(f"  grew to {count:,} inboxes in {seconds:.1f} s")
    large = await measure_lists(postroom, config.scale_large, config, driver)
    print()
    print_results([*small.values(), *large.values()])
    print(f"\nratio {config.scale_large:,} / {SCALE_SMALL:,} inboxes (goal: flat, ratio <= 1.5)")
    print(f"{'position':<28}{'p50 ratio':>11}{'p99 ratio':>11}")
    for name in small:
        print(f"{name:<28}{large[name].p50 / small[name].p50:>10.2f}x{large[name].p99 / small[name].p99:>10.2f}x")


def describe_database(url: str) -> str:
    if url.startswith("sqlite"):
        return f"SQLite {sqlite3.sqlite_version} at {url.removeprefix('sqlite:///')}"
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            version = connection.execute(text("SHOW server_version")).scalar_one()
    finally:
        engine.dispose()
    return f"PostgreSQL {version} ({url.rsplit('/', 1)[-1]} on 127.0.0.1)"


async def bench(args: argparse.Namespace, database_url: str | None, work_dir: Path) -> None:
    config = QUICK if args.quick else FULL
    driver = DRIVERS[args.client]
    extra_env = {"POSTROOM_ACCESS_LOG": "false"} if args.no_access_log else {}
    if args.key_cache_seconds is not None:
        extra_env["POSTROOM_API_KEY_CACHE_SECONDS"] = str(args.key_cache_seconds)
    server = ServerProcess(work_dir / "postroom", database_url=database_url, extra_env=extra_env).start()
    try:
        assert server.process is not None
        url = Settings(data_dir=server.data_dir, database_url=database_url).resolved_database_url()
        client = f"httpx {httpx.__version__}" if args.client == "httpx" else "raw asyncio streams"
        loop = type(asyncio.get_running_loop()).__module__.split(".")[0]
        print(f"database: {describe_database(url)}")
        print(f"python {platform.python_version()}, {os.cpu_count()} CPUs; load generator: {client} on {loop}")
        print(
            f"postroom serve via tests/support/server.py: uvicorn, 1 process, rate limit raised, "
            f"JSON access log {'off' if args.no_access_log else 'on'}, "
            f"API key cache {args.key_cache_seconds if args.key_cache_seconds is not None else 'default'} s"
        )
        postroom = Target(server.base_url, server.process.pid, {"Authorization": f"Bearer {server.api_key}"})
        with bare_server(work_dir / "bare.log") as (bare_url, bare_pid):
            print(f"\nthroughput and latency ({config.requests} requests per row after {config.warmup} warm-up)\n")
            bare = Target(bare_url, bare_pid, postroom.headers)
            results = await phase_throughput(postroom, bare, server.smtp_port, config, driver)
        print_results(results)
        print_ratios(results, config)
        if args.no_scale:
            return
        engine = create_engine(url)
        try:
            await phase_list_scaling(postroom, engine, config, driver)
        finally:
            engine.dispose()
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few requests per row and 10,000 instead of 100,000")
    target = parser.add_mutually_exclusive_group()
    target.add_argument(
        "--database-url",
        help="SQLAlchemy URL of a throwaway database (the benchmark deletes every inbox in it and seeds its own); "
        "default: SQLite in a temporary directory",
    )
    target.add_argument(
        "--postgres", action="store_true", help="create postroom_bench_<random> on local PostgreSQL and drop it after"
    )
    parser.add_argument("--postgres-admin-dsn", default=POSTGRES_ADMIN_DSN, help="libpq DSN used with --postgres")
    parser.add_argument(
        "--client",
        choices=sorted(DRIVERS),
        default="httpx",
        help="load generator: httpx (default) or raw asyncio streams (much cheaper per request)",
    )
    parser.add_argument("--no-scale", action="store_true", help="skip the list-at-scale phase")
    parser.add_argument("--no-access-log", action="store_true", help="run postroom with POSTROOM_ACCESS_LOG=false")
    parser.add_argument(
        "--key-cache-seconds", type=float, default=None, help="POSTROOM_API_KEY_CACHE_SECONDS (0: every request reads)"
    )
    args = parser.parse_args()
    try:
        import uvloop

        runner: Callable[[Coroutine[None, None, None]], None] = uvloop.run
    except ImportError:
        runner = asyncio.run
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="postroom-bench-") as work, contextlib.ExitStack() as stack:
        url = args.database_url
        if args.postgres:
            url = stack.enter_context(postgres_database(args.postgres_admin_dsn))
        runner(bench(args, url, Path(work)))
    print(f"\ntotal time {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
