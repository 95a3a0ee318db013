"""A scriptable sink SMTP server on loopback standing in for remote MX hosts and relays in tests.

with SinkServer(starttls=True, auth=("relay-user", "s3cret")) as sink:
    sink.script_rcpt("x@b.test", "451 4.3.0 try later")          # the next RCPT TO:<x@b.test> only
    sink.script_rcpt("y@b.test", "550 5.1.1 no such user", always=True)
    sink.script_data("554 5.7.1 rejected")                       # the next DATA reply
    sink.script_rset(None)                                       # hang up at the next RSET instead of answering
    ...  # deliver to sink.host:sink.port (POSTROOM_MX_OVERRIDES=f"b.test={sink.address}")
    [message] = sink.wait_for(1, timeout=10)
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory
from types import TracebackType
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

SINK_HOST = "127.0.0.1"


@dataclass(frozen=True)
class Received:
    """One accepted transaction."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    tls: bool
    auth_login: str | None
    helo: str | None


class SinkServer:
    """An aiosmtpd server in a thread on ``127.0.0.1:<free port>``; records accepted mail, answers as scripted."""

    def __init__(
        self,
        *,
        starttls: bool = False,
        implicit_tls: bool = False,
        auth: tuple[str, str] | None = None,
        size_limit: int | None = None,
        hostname: str = "sink.test",
        smtputf8: bool = False,
    ) -> None:
        self.host = SINK_HOST
        self.port = free_port()
        self.auth = auth
        self.implicit_tls = implicit_tls
        self.messages: list[Received] = []
        self.rcpt_log: list[tuple[str, str]] = []  # (address, reply) for every RCPT, accepted or not
        self._rcpt_queue: dict[str, deque[str]] = {}
        self._rcpt_always: dict[str, str] = {}
        self._data_queue: deque[str] = deque()
        self._data_always: str | None = None
        self._rset_queue: deque[str | None] = deque()
        self.connections = 0  # sessions opened (the controller's own readiness probe included)
        self._arrived = threading.Condition()
        self._tempdir = TemporaryDirectory(prefix="postroom-sink-")
        self.ca = trustme.CA()
        certificate = self.ca.issue_cert("localhost", SINK_HOST, hostname)
        server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        certificate.configure_cert(server_context)
        self.ca_path = Path(self._tempdir.name) / "ca.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_path))
        parameters: dict[str, Any] = {"data_size_limit": size_limit, "enable_SMTPUTF8": smtputf8}
        if starttls:
            parameters["tls_context"] = server_context
        if auth is not None:
            parameters["authenticator"] = self._authenticate
            # aiosmtpd only sees STARTTLS as TLS; an implicit TLS listener is encrypted from the first byte.
            parameters["auth_require_tls"] = starttls
        self._controller = _CountingController(
            self,
            _Handler(self),
            hostname=SINK_HOST,
            port=self.port,
            ssl_context=server_context if implicit_tls else None,
            server_hostname="localhost",
            **parameters,
        )
        # The name the server greets with; Controller's own ``hostname`` argument is the bind address.
        self._controller.SMTP_kwargs["hostname"] = hostname

    @property
    def address(self) -> str:
        """``host:port``, the form POSTROOM_MX_OVERRIDES takes."""
        return f"{self.host}:{self.port}"

    def client_context(self) -> ssl.SSLContext:
        """A verifying client context that trusts this sink's certificate (issued for localhost and 127.0.0.1)."""
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        return context

    def start(self) -> SinkServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()
        self._tempdir.cleanup()

    def __enter__(self) -> SinkServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    def script_rcpt(self, address: str, reply: str, *, always: bool = False) -> None:
        """Answer RCPT TO:<address> with ``reply`` once (queued in order) or every time."""
        key = address.lower()
        with self._arrived:
            if always:
                self._rcpt_always[key] = reply
            else:
                self._rcpt_queue.setdefault(key, deque()).append(reply)

    def script_data(self, reply: str, *, always: bool = False) -> None:
        """Answer the end of DATA with ``reply`` once (queued in order) or every time."""
        with self._arrived:
            if always:
                self._data_always = reply
            else:
                self._data_queue.append(reply)

    def script_rset(self, reply: str | None) -> None:
        """Answer the next RSET with ``reply``, or with ``None`` close the connection without answering."""
        with self._arrived:
            self._rset_queue.append(reply)

    def _rset_reply(self) -> tuple[bool, str | None]:
        with self._arrived:
            return (True, self._rset_queue.popleft()) if self._rset_queue else (False, None)

    def _connected(self) -> None:
        with self._arrived:
            self.connections += 1

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Block until at least ``count`` messages were accepted; raises TimeoutError otherwise."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.messages) >= count, timeout=timeout):
                raise TimeoutError(f"the sink received {len(self.messages)} of {count} messages in {timeout}s")
            return list(self.messages)

    def wait_until(self, holds: Callable[[list[Received]], bool], timeout: float = 10.0) -> list[Received]:
        """Block until ``holds(messages)``; raises TimeoutError (with what arrived) otherwise."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: holds(list(self.messages)), timeout=timeout):
                raise TimeoutError(f"{timeout}s passed; the sink holds {len(self.messages)}, not the awaited mail")
            return list(self.messages)

    def clear(self) -> None:
        """Forget received mail, the RCPT log and every script."""
        with self._arrived:
            self.messages.clear()
            self.rcpt_log.clear()
            self._rcpt_queue.clear()
            self._rcpt_always.clear()
            self._data_queue.clear()
            self._data_always = None
            self._rset_queue.clear()

    def _rcpt_reply(self, address: str) -> str:
        key = address.lower()
        with self._arrived:
            queued = self._rcpt_queue.get(key)
            reply = queued.popleft() if queued else self._rcpt_always.get(key, "250 2.1.5 OK")
            self.rcpt_log.append((address, reply))
            return reply

    def _data_reply(self) -> str:
        with self._arrived:
            if self._data_queue:
                return self._data_queue.popleft()
            return self._data_always or "250 2.0.0 OK: queued"

    def _record(self, received: Received) -> None:
        with self._arrived:
            self.messages.append(received)
            self._arrived.notify_all()

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if self.auth is None or not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        expected = (self.auth[0].encode(), self.auth[1].encode())
        # handled=False lets aiosmtpd answer a failure with its own 535.
        return AuthResult(success=(auth_data.login, auth_data.password) == expected, handled=False, auth_data=auth_data)


class _CountingController(Controller):
    def __init__(self, sink: SinkServer, handler: object, **options: Any) -> None:
        super().__init__(handler, **options)
        self._sink = sink

    def factory(self) -> SMTP:
        self._sink._connected()
        server: SMTP = super().factory()  # type: ignore[no-untyped-call]
        return server


class _Handler:
    def __init__(self, sink: SinkServer) -> None:
        self._sink = sink

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        reply = self._sink._rcpt_reply(address)
        if reply.startswith("2"):
            envelope.rcpt_tos.append(address)
        return reply

    async def handle_RSET(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        scripted, reply = self._sink._rset_reply()
        if not scripted:
            return "250 OK"
        if reply is None and isinstance(server.transport, asyncio.Transport):
            server.transport.abort()
        return reply or "421 4.4.2 gone"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        reply = self._sink._data_reply()
        if reply.startswith("2"):
            login = getattr(session.auth_data, "login", None)
            content = envelope.original_content or b""
            self._sink._record(
                Received(
                    mail_from=envelope.mail_from or "",
                    rcpt_tos=list(envelope.rcpt_tos),
                    raw=content if isinstance(content, bytes) else content.encode(),
                    tls=server.transport is not None and server.transport.get_extra_info("ssl_object") is not None,
                    auth_login=login.decode() if isinstance(login, bytes) else login,
                    helo=session.host_name,
                )
            )
        return reply


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((SINK_HOST, 0))
        return int(sock.getsockname()[1])


class GreetingRefuser:
    """A loopback listener that answers every connection with one greeting reply (e.g. 421) and hangs up."""

    def __init__(self, reply: str = "421 4.3.2 service not available") -> None:
        self.reply = reply
        self._listener = socket.create_server((SINK_HOST, 0))
        self.port = int(self._listener.getsockname()[1])
        self.connections = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> GreetingRefuser:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._listener.close()
        self._thread.join(timeout=5)

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return  # closed by __exit__
            with connection:
                self.connections += 1
                connection.sendall(self.reply.encode() + b"\r\n")
