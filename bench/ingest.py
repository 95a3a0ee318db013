"""SMTP ingest: messages/s with 20 concurrent sessions into Postroom beside a discarding aiosmtpd, and peak memory.

Every message Postroom takes is authenticated (SPF, DKIM, DMARC against a loopback DNS server). Two runs show what
that costs: the sender's domain publishes nothing (each check ends at a quick NXDOMAIN: the floor, close to no
authentication at all), and the sender publishes SPF, its DKIM key and DMARC p=reject, and signs every message
(a full pass: RSA verification and all the lookups). Prints figures only, never asserts. Run from the repository
root: ``.venv/bin/python bench/ingest.py [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
for entry in (ROOT, ROOT / "bench"):
    if str(entry) not in sys.path:
        sys.path.insert(0, str(entry))  # `tests.support.server` starts the real `postroom serve` process

from tests.support.server import KEY_LINE, ServerProcess, free_port  # noqa: E402

from ingest_client import Outgoing, session  # noqa: E402
from postroom.delivery.dkim import generate_key, public_txt, sign  # noqa: E402

SESSIONS = 20
BIG_CLIENTS = 10
BIG_BYTES = 20 * 1024 * 1024
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_API_KEYS: dict[str | None, str] = {}  # database URL -> the first API key its server printed


@dataclass(frozen=True)
class Config:
    small: int  # 2 KB messages per target
    large: int  # 100 KB messages per target
    warmup: int


FULL = Config(small=4000, large=1000, warmup=100)
QUICK = Config(small=600, large=200, warmup=40)


@dataclass(frozen=True)
class Rate:
    sent: int
    seconds: float
    server_cpu: float  # cores used by the server process during the run
    p50_ms: float
    p99_ms: float

    @property
    def per_second(self) -> float:
        return self.sent / self.seconds


def _text_body(size: int) -> bytes:
    line = b"The quick brown fox jumps over the lazy dog, and then the lazy dog takes a nap in the sun.\r\n"
    lines = [line] * (size // len(line) + 1)
    lines.insert(3, b".A line that starts with a dot, so it is dot-stuffed on the wire.\r\n".replace(b".", b"..", 1))
    return b"".join(lines)[:size].rsplit(b"\r\n", 1)[0] + b"\r\n"


def _header(rcpt: str, kind: str, number: int, extra: str = "") -> bytes:
    return (
        f"From: Bench <bench@example.org>\r\nTo: {rcpt}\r\nSubject: ingest {kind} {number}\r\n"
        f"Message-ID: <{kind}-{number}-{time.time_ns()}@bench.example.org>\r\nDate: Wed, 25 Nov 2026 10:00:00 +0000\r\n"
        f"{extra}\r\n"
    ).encode()


def _messages(rcpt: str, kind: str, count: int, size: int) -> list[Outgoing]:
    body = _text_body(size)
    extra = "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
    return [Outgoing(_header(rcpt, kind, number, extra), body) for number in range(count)]


SENDER_DOMAIN = "example.org"
SIGNING_KEY = generate_key(SENDER_DOMAIN, "bench")


def _sender_records() -> list[tuple[str, str, str]]:
    return [
        (SENDER_DOMAIN, "TXT", "v=spf1 ip4:127.0.0.1 -all"),
        (f"bench._domainkey.{SENDER_DOMAIN}", "TXT", public_txt(SIGNING_KEY)),
        (f"_dmarc.{SENDER_DOMAIN}", "TXT", "v=DMARC1; p=reject"),
    ]


@contextlib.contextmanager
def _dns_server(records: list[tuple[str, str, str]]) -> Iterator[str]:
    """A loopback DNS server in its own process publishing ``records``; yields its address."""
    command = [sys.executable, str(ROOT / "bench" / "ingest_dns.py"), json.dumps(records)]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert process.stdout is not None
        yield process.stdout.readline().decode().strip()
    finally:
        assert process.stdin is not None
        process.stdin.close()
        process.wait(timeout=10)


def _signed(messages: list[Outgoing]) -> list[Outgoing]:
    """Each message DKIM-signed over its unstuffed body (signing happens before the clock starts)."""
    signed = []
    for message in messages:
        unstuffed = b"\r\n".join(line[1:] if line.startswith(b"..") else line for line in message.body.split(b"\r\n"))
        signature = sign(message.header + unstuffed, SIGNING_KEY)[: -len(message.header + unstuffed)]
        signed.append(Outgoing(signature + message.header, message.body))
    return signed


def _big_messages(rcpt: str, count: int) -> list[Outgoing]:
    """A short text part and a base64 attachment, about 20 MB on the wire each."""
    payload = os.urandom(BIG_BYTES * 3 // 4 - 64 * 1024)
    encoded = base64.encodebytes(payload).replace(b"\n", b"\r\n")
    body = (
        b"--b1\r\nContent-Type: text/plain\r\n\r\nA big attachment follows.\r\n"
        b"--b1\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
        b'Content-Disposition: attachment; filename="big.bin"\r\n\r\n' + encoded + b"--b1--\r\n"
    )
    extra = 'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b1"\r\n'
    return [Outgoing(_header(rcpt, "big", number, extra), body) for number in range(count)]


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000 if ordered else 0.0


async def _drive(port: int, rcpt: str, messages: list[Outgoing], sessions: int, pid: int) -> Rate:
    latencies: list[float] = []
    shares = [messages[index::sessions] for index in range(sessions)]
    cpu = _cpu_seconds(pid)
    started = time.perf_counter()
    sent = await asyncio.gather(*(session("127.0.0.1", port, rcpt, share, latencies) for share in shares))
    seconds = time.perf_counter() - started
    used = _cpu_seconds(pid) - cpu
    return Rate(sum(sent), seconds, used / seconds, _percentile(latencies, 0.5), _percentile(latencies, 0.99))


@contextlib.contextmanager
def _bare_server() -> Iterator[tuple[int, int]]:
    port = free_port()
    command = [sys.executable, str(ROOT / "bench" / "ingest_bare.py"), str(port)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE)
    try:
        assert process.stdout is not None
        process.stdout.readline()  # "ready"
        yield port, process.pid
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextlib.contextmanager
def _postroom(database_url: str | None, extra_env: dict[str, str]) -> Iterator[tuple[ServerProcess, str]]:
    with tempfile.TemporaryDirectory(prefix="postroom-ingest-") as directory:
        env = {"PYTHONUNBUFFERED": "1", **extra_env}  # the first API key line must reach the log before /readyz
        server = ServerProcess(Path(directory), database_url=database_url, extra_env=env).start()
        match = KEY_LINE.search(server.log_path.read_text(errors="replace"))
        server.api_key = server.api_key or (match.group(1) if match else "") or _API_KEYS.get(database_url, "")
        if not server.api_key:
            server.stop()
            raise SystemExit("no API key: the database was bootstrapped before this run; pass an empty database")
        _API_KEYS[database_url] = server.api_key  # a second server on the same database prints no key
        try:
            response = httpx.post(
                f"{server.base_url}/v0/inboxes",
                json={"username": f"bench{time.time_ns()}"},
                headers={"Authorization": f"Bearer {server.api_key}"},
                timeout=30,
            )
            response.raise_for_status()
            yield server, str(response.json()["inbox_id"])
        finally:
            server.stop()


def _print_rates(label: str, bare: Rate, postroom: Rate) -> None:
    for name, rate in (("bare aiosmtpd (discard)", bare), ("postroom (durable)", postroom)):
        print(
            f"  {label:>6} {name:<24} {rate.per_second:8.1f} msg/s  ({rate.sent} in {rate.seconds:.2f} s, "
            f"p50 {rate.p50_ms:.1f} ms, p99 {rate.p99_ms:.1f} ms, server CPU {rate.server_cpu:.2f} cores)"
        )
    print(f"  {label:>6} ratio postroom / bare: {postroom.per_second / bare.per_second:.2f}")


async def _throughput(config: Config, database_url: str | None) -> None:
    print(f"throughput: {SESSIONS} concurrent SMTP sessions, one recipient, one connection per session")
    for run, publish in (
        ("sender publishes no records", False),
        ("SPF+DKIM+DMARC pass, signed (records with a 300 s TTL)", True),
    ):
        print(f" authentication: {run}")
        with _dns_server(_sender_records() if publish else []) as dns, _bare_server() as (bare_port, bare_pid):
            env = {"POSTROOM_DNS_SERVERS": dns}
            with _postroom(database_url, env) as (server, inbox_id):
                assert server.process is not None
                await _sizes(config, bare_port, bare_pid, server, inbox_id, signed=publish)


async def _sizes(
    config: Config, bare_port: int, bare_pid: int, server: ServerProcess, inbox_id: str, *, signed: bool
) -> None:
    assert server.process is not None
    postroom_pid = server.process.pid
    prepare = _signed if signed else (lambda messages: messages)
    for label, count, size in (("2 KB", config.small, 2 * 1024), ("100 KB", config.large, 100 * 1024)):
        kind = label.replace(" ", "").lower()
        warm = prepare(_messages(inbox_id, "warm" + kind, config.warmup, size))
        await _drive(bare_port, inbox_id, warm, SESSIONS, bare_pid)
        await _drive(server.smtp_port, inbox_id, warm, SESSIONS, postroom_pid)
        messages = prepare(_messages(inbox_id, kind, count, size))
        bare = await _drive(bare_port, inbox_id, messages, SESSIONS, bare_pid)
        postroom = await _drive(server.smtp_port, inbox_id, messages, SESSIONS, postroom_pid)
        _print_rates(label, bare, postroom)


async def _memory(database_url: str | None, clients: int = BIG_CLIENTS) -> None:
    print(f"memory: {clients} client(s) each send one ~20 MB message at once (fresh server)")
    with _postroom(database_url, {}) as (server, inbox_id):
        assert server.process is not None
        pid = server.process.pid
        messages = _big_messages(inbox_id, clients)
        wire = len(messages[0].header) + len(messages[0].body)
        before = _status_kb(pid, "VmRSS")
        rate = await _drive(server.smtp_port, inbox_id, messages, clients, pid)
        peak = _status_kb(pid, "VmHWM")
        after = _status_kb(pid, "VmRSS")
        total = clients * wire / 1024 / 1024
        print(f"  message size on the wire: {wire / 1024 / 1024:.1f} MiB, {clients} at once = {total:.0f} MiB")
        print(
            f"  server RSS before: {before / 1024:.0f} MiB, peak (VmHWM): {peak / 1024:.0f} MiB, "
            f"after: {after / 1024:.0f} MiB"
        )
        print(f"  peak minus before: {(peak - before) / 1024:.0f} MiB; stored {rate.sent} in {rate.seconds:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer messages (a smoke run)")
    parser.add_argument("--database-url", help="Postroom database (default: SQLite in a temporary data dir)")
    parser.add_argument("--only", choices=["throughput", "memory"], help="run one part")
    parser.add_argument("--memory-clients", type=int, default=BIG_CLIENTS, help="20 MB messages sent at once")
    args = parser.parse_args()
    config = QUICK if args.quick else FULL
    print(
        f"postroom ingest bench ({'quick' if args.quick else 'full'}), python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, database: {args.database_url or 'sqlite (default)'}"
    )
    print("load generator, bare server and postroom share this machine; figures are indicative only")
    if args.only in (None, "throughput"):
        asyncio.run(_throughput(config, args.database_url))
    if args.only in (None, "memory"):
        asyncio.run(_memory(args.database_url, args.memory_clients))


if __name__ == "__main__":
    main()
