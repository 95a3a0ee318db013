"""Runs a real ``postroom serve`` process on a free loopback port and hands out its first API key."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.support.databases import postgres_database
from tests.support.sender_dns import sender_dns

KEY_LINE = re.compile(r"POSTROOM_API_KEY=(pr_[A-Za-z0-9]+)")
SERVER_LOGS: list[Path] = []  # every server log of the run, grepped for secrets at its end (tests/support/log_secrets)


BIND_ATTEMPTS = 3


class PortTaken(RuntimeError):
    """The server could not bind a port chosen for it: another process took it first."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    data_dir: Path
    database_url: str | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    smtp_port: int = field(default_factory=free_port)
    api_key: str = ""
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "server.log"

    def env(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith("POSTROOM_")}
        env.update(
            POSTROOM_DATA_DIR=str(self.data_dir),
            POSTROOM_API_HOST="127.0.0.1",
            POSTROOM_API_PORT=str(self.port),
            POSTROOM_SMTP_HOST="127.0.0.1",
            POSTROOM_SMTP_PORT=str(self.smtp_port),
            POSTROOM_RATE_LIMIT_PER_SECOND="100000",
            POSTROOM_RATE_LIMIT_BURST="100000",
            POSTROOM_DRAIN_SECONDS="5",  # stop() kills after 10 s; a test of the drain sets its own
            POSTROOM_AUTH_FAILURE_BURST="100000",  # shared test servers answer many deliberate 401s
            POSTROOM_DNS_SERVERS=sender_dns().address,  # never the system's resolver: no lookup leaves the machine
        )
        if self.database_url:
            env["POSTROOM_DATABASE_URL"] = self.database_url
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 30.0) -> ServerProcess:
        """Start and wait until ready. A port that another process took between ``free_port()`` and the server's
        bind (parallel test workers pick ports too) is replaced by a fresh one, up to three attempts in all."""
        for _ in range(BIND_ATTEMPTS - 1):
            try:
                return self._start(timeout)
            except PortTaken:
                self.port, self.smtp_port = free_port(), free_port()
        return self._start(timeout)

    def _start(self, timeout: float) -> ServerProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        SERVER_LOGS.append(self.log_path)
        log = self.log_path.open("ab")
        logged_before = log.tell()
        command = [sys.executable, "-m", "postroom.cli", "serve"]
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=self.env())
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output = self.log_path.read_bytes()[logged_before:].decode(errors="replace")
                if "address already in use" in " ".join(output.split()):
                    raise PortTaken(output)
                raise RuntimeError(f"postroom serve exited early:\n{self.log_path.read_text()}")
            match = KEY_LINE.search(self.log_path.read_text(errors="replace"))
            if match and not self.api_key:
                self.api_key = match.group(1)
            try:
                if httpx.get(f"{self.base_url}/readyz", timeout=1).status_code == 200:
                    # The key may have been printed between the log read above and this check.
                    match = KEY_LINE.search(self.log_path.read_text(errors="replace"))
                    if match and not self.api_key:
                        self.api_key = match.group(1)
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"postroom serve did not become ready:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextmanager
def running_server(backend: str, data_dir: Path, **options: Any) -> Iterator[ServerProcess]:
    """A started server on ``backend`` ("sqlite", or "postgres" with a database made for it), stopped after."""
    if backend == "sqlite":
        process = ServerProcess(data_dir, **options).start()
        try:
            yield process
        finally:
            process.stop()
        return
    with postgres_database() as url:
        process = ServerProcess(data_dir, database_url=url, **options).start()
        try:
            yield process
        finally:
            process.stop()
