"""A real webhook receiver on loopback: records every POST, verifies it with the ``svix`` library, can fail or hang."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from svix.webhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    status: int  # what the receiver answered
    verified_for: str | None  # the secret it verified with, None when no known secret verified it

    @property
    def event(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed

    @property
    def svix_id(self) -> str:
        return self.headers["svix-id"]


@dataclass
class Receiver:
    port: int
    secrets: list[str] = field(default_factory=list)
    status: int = 200  # answer with this while ``fail`` is not set
    hang: threading.Event = field(default_factory=threading.Event)  # while set, requests wait (a stuck receiver)
    released: threading.Event = field(default_factory=threading.Event)
    received: list[Received] = field(default_factory=list)
    arrivals: int = 0  # POSTs that reached the receiver, answered or still hanging
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def verify(self, headers: dict[str, str], body: bytes) -> str | None:
        for secret in self.secrets:
            try:
                Webhook(secret).verify(body, headers)
            except WebhookVerificationError:
                continue
            return secret
        return None

    def accepted(self) -> list[Received]:
        with self.lock:
            return [item for item in self.received if 200 <= item.status < 300]

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        """Block until ``count`` POSTs were accepted (2xx) and return them in arrival order."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            accepted = self.accepted()
            if len(accepted) >= count:
                return accepted
            time.sleep(0.02)
        raise AssertionError(f"only {len(self.accepted())} of {count} webhook POSTs accepted within {timeout} s")


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    state: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            receiver = state["receiver"]
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            headers = {key.lower(): value for key, value in self.headers.items()}
            with receiver.lock:
                receiver.arrivals += 1
            while receiver.hang.is_set() and not receiver.released.is_set():
                time.sleep(0.02)
            status = receiver.status
            with receiver.lock:
                receiver.received.append(Received(headers, body, status, receiver.verify(headers, body)))
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state["receiver"] = Receiver(port=int(server.server_address[1]))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state["receiver"]
    finally:
        state["receiver"].released.set()
        server.shutdown()
        server.server_close()
