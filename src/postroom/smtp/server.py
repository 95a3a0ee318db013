"""Builds the aiosmtpd server for the event loop `postroom serve` runs, with its limits, STARTTLS and drain.

DATA is streamed (smtp/data.py) into a spooled temporary file (memory, then disk) instead of aiosmtpd's list of
lines; what that needs of aiosmtpd's internals is in smtp/aiosmtpd_seam.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from postroom.observability.collectors import SMTP_SESSIONS, SMTP_SESSIONS_OPEN
from postroom.services.mail.receive import ReceiveService
from postroom.services.trust.relays import Network
from postroom.smtp.aiosmtpd_seam import StreamingSMTP
from postroom.smtp.data import DataLimits, read_data
from postroom.smtp.handler import IngressHandler
from postroom.smtp.replies import (
    AUTH_NOT_AVAILABLE,
    IDLE_TIMEOUT,
    SESSION_TOO_LONG,
    SHUTTING_DOWN,
    TOO_BIG,
    with_enhanced_code,
)

log = logging.getLogger("postroom.smtp")

SPOOL_MEMORY_BYTES = 1024 * 1024  # a message above this is spooled to a temporary file on disk
READER_LIMIT_BYTES = 64 * 1024  # asyncio stream buffer; also how much of an overlong line is read at a time
PROXY_HEADER_SECONDS = 5.0
# aiosmtpd's own reply texts, given our enhanced status codes
REWRITTEN_REPLIES = {"552 Error: message size exceeds fixed maximum message size": TOO_BIG}


@dataclass(frozen=True)
class SmtpOptions:
    host: str
    port: int
    hostname: str
    max_message_bytes: int
    max_recipients: int
    idle_timeout_seconds: int
    max_session_seconds: int = 1800
    max_line_bytes: int = 1000
    store_budget_bytes: int = 32 * 1024 * 1024
    tls_cert: Path | None = None
    tls_key: Path | None = None
    trusted_relays: tuple[Network, ...] = ()
    proxy_protocol: bool = False  # every connection starts with a PROXY header from a trusted relay


def _tls_context(options: SmtpOptions) -> ssl.SSLContext | None:
    if options.tls_cert is None or options.tls_key is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(options.tls_cert), str(options.tls_key))
    return context


class SmtpDrain:
    """The sessions of one SMTP server, and its drain on shutdown: new sessions get 421 at once, idle ones are
    closed with 421, and a session in DATA finishes its message (and gets its reply) before its 421."""

    def __init__(self) -> None:
        self.draining = False
        self._sessions: set[IngressSMTP] = set()
        self._empty = asyncio.Event()
        self._empty.set()

    def opened(self, session: IngressSMTP) -> None:
        self._sessions.add(session)
        self._empty.clear()

    def closed(self, session: IngressSMTP) -> None:
        self._sessions.discard(session)
        if not self._sessions:
            self._empty.set()

    @property
    def session_count(self) -> int:
        return len(self._sessions)

    def begin(self) -> None:
        self.draining = True
        for session in list(self._sessions):
            session.drain()

    async def finish(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for the sessions left, then cut them (nothing unanswered was accepted)."""
        self.begin()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._empty.wait(), timeout)
        for session in list(self._sessions):
            session.abort()


class _Refuse(asyncio.Protocol):
    """What a connection gets while the server drains: a 421 greeting and the door closed."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        transport.write(SHUTTING_DOWN.encode() + b"\r\n")
        transport.close()


class IngressSMTP(StreamingSMTP):
    """aiosmtpd's protocol with a streaming DATA, a total session time limit and 421 replies when closing."""

    def __init__(
        self, ingress: IngressHandler, options: SmtpOptions, tls: ssl.SSLContext | None, drain: SmtpDrain
    ) -> None:
        self.line_length_limit = max(READER_LIMIT_BYTES, options.max_line_bytes)  # read by SMTP.__init__
        super().__init__(
            ingress,
            hostname=options.hostname,
            data_size_limit=options.max_message_bytes,
            enable_SMTPUTF8=True,
            decode_data=False,
            tls_context=tls,
            require_starttls=False,
            timeout=options.idle_timeout_seconds,
            ident="Postroom ESMTP",
            proxy_protocol_timeout=PROXY_HEADER_SECONDS if options.proxy_protocol else None,
            auth_exclude_mechanism=["LOGIN", "PLAIN"],  # no AUTH on the MX: nobody logs in here
        )
        self._ingress = ingress
        self._data_limits = DataLimits(options.max_message_bytes, options.max_line_bytes)
        self._max_session_seconds = options.max_session_seconds
        self._session_handle: asyncio.TimerHandle | None = None
        self._drain = drain
        self._in_data = False  # from 354 to the reply to the message: a drain lets it finish
        self._storing = False
        self._closing_reply: str | None = None  # set when a limit fired while a message is stored: sent after its reply
        self._greeting = False  # while answering HELO/EHLO, whose replies carry no enhanced status code (RFC 2034)
        self._session_counted_out = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self._session_handle is None:  # not again after STARTTLS: the limit covers the whole session
            self._session_handle = self.loop.call_later(self._max_session_seconds, self._close, SESSION_TOO_LONG)
            self._drain.opened(self)
            SMTP_SESSIONS.inc()
            SMTP_SESSIONS_OPEN.inc()
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        if self._session_handle is not None:
            self._session_handle.cancel()
            if not self._session_counted_out:
                self._session_counted_out = True
                SMTP_SESSIONS_OPEN.dec()
        self._drain.closed(self)
        super().connection_lost(error)

    def drain(self) -> None:
        """The server is shutting down: 421 now, or right after the reply to the message in DATA."""
        if self._in_data:
            self._closing_reply = SHUTTING_DOWN
        else:
            self._close(SHUTTING_DOWN)

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def on_idle(self) -> None:
        self._close(IDLE_TIMEOUT)

    def _close(self, reply: str) -> None:
        """Send ``reply`` and close, or, while a message is being stored, right after that message's reply."""
        if self.transport is None or self.transport.is_closing():
            return
        if self._storing:
            self._closing_reply = reply
            return
        log.info("%r closing: %s", self.session.peer if self.session else None, reply)
        self.write_line(reply)
        self.transport.close()

    async def push(self, status: Any) -> None:
        if isinstance(status, str):
            status = REWRITTEN_REPLIES.get(status, status)
            if not self._greeting and status != f"220 {self.hostname} {self.__ident__}":  # nor has the banner
                status = with_enhanced_code(status)
        await super().push(status)

    async def smtp_HELO(self, hostname: str) -> None:  # noqa: N802 - aiosmtpd's command method
        await self._greet(super().smtp_HELO(hostname))

    async def smtp_EHLO(self, hostname: str) -> None:  # noqa: N802 - aiosmtpd's command method
        await self._greet(super().smtp_EHLO(hostname))

    async def _greet(self, reply: Any) -> None:
        self._greeting = True
        try:
            await reply
        finally:
            self._greeting = False

    async def smtp_AUTH(self, arg: str) -> None:  # noqa: N802 - aiosmtpd's command method
        """No login can succeed on the MX, so AUTH is neither advertised nor taken (503 before EHLO, else 502)."""
        if await self.check_helo_needed("EHLO"):
            return
        await self.push(AUTH_NOT_AVAILABLE)

    async def smtp_DATA(self, arg: str) -> None:  # noqa: N802 - aiosmtpd's command method
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        assert self.envelope is not None
        if not self.envelope.rcpt_tos:
            await self.push("503 5.5.1 Error: need RCPT command")
            return
        if arg:
            await self.push("501 5.5.4 Syntax: DATA")
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        self._in_data = True
        try:
            await self._receive_data()
        finally:
            self._in_data = False
        if self._closing_reply is not None:
            self._close(self._closing_reply)

    async def _receive_data(self) -> None:
        assert self.envelope is not None
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES)  # noqa: SIM115 - closed by store
        try:
            outcome = await read_data(self.data_reader(), spool, self._data_limits, self.restart_idle_timer)
        except BaseException:
            spool.close()
            raise
        if outcome.refusal is not None:
            spool.close()
            self.reset_envelope()
            await self.push(outcome.refusal)
            return
        envelope = self.envelope
        self._storing = True
        try:
            assert self.session is not None
            status = await self._ingress.store(self.session, envelope, spool, outcome.size)
        finally:
            self._storing = False
        self.reset_envelope()
        await self.push(status)


async def start_smtp(receive: ReceiveService, options: SmtpOptions, drain: SmtpDrain | None = None) -> asyncio.Server:
    handler = IngressHandler(
        receive,
        options.max_recipients,
        options.store_budget_bytes,
        trusted_relays=options.trusted_relays,
        server_name=options.hostname,
    )
    tls = _tls_context(options)
    loop = asyncio.get_running_loop()
    sessions = drain or SmtpDrain()

    def protocol() -> asyncio.Protocol:
        return _Refuse() if sessions.draining else IngressSMTP(handler, options, tls, sessions)

    return await loop.create_server(protocol, host=options.host, port=options.port)
