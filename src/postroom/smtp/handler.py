"""The SMTP handler: RCPT accepts only this server's active inboxes (never relays); DATA stores, then 250.

Stored messages pass through a byte budget so a burst of big messages is parsed a few at a time, not all at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import IO
from weakref import WeakKeyDictionary

from aiosmtpd.proxy_protocol import ProxyData
from aiosmtpd.smtp import SMTP, Envelope, Session

from postroom.domain.ids import new_id
from postroom.errors import Refused
from postroom.observability.collectors import INGEST_LATENCY, SMTP_MESSAGES
from postroom.services.mail.receive import InboundMessage, ReceiveService
from postroom.services.mail.trace import SmtpHop
from postroom.services.trust.authentication import Connection
from postroom.services.trust.relays import Network, is_trusted
from postroom.smtp.replies import (
    ACCEPTED,
    ENHANCED_STATUS_CODES,
    NO_RECIPIENTS,
    RECIPIENT_OK,
    SENDER_OK,
    TOO_MANY_RECIPIENTS,
    TRY_AGAIN,
    reply_for,
)

log = logging.getLogger("postroom.smtp")

# Messages above this are stored on one dedicated thread: big buffers then come from one malloc arena and are
# reused, instead of each worker thread's arena keeping its own high-water mark.
LARGE_MESSAGE_BYTES = 1024 * 1024


class ByteBudget:
    """An asyncio semaphore counted in bytes; a request over the whole budget waits until it can run alone."""

    def __init__(self, limit: int) -> None:
        self._limit = max(1, limit)
        self._used = 0
        self._waiters: list[asyncio.Future[None]] = []

    def weight(self, size: int) -> int:
        return min(max(1, size), self._limit)

    async def acquire(self, weight: int) -> None:
        while self._used and self._used + weight > self._limit:
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            finally:
                self._waiters.remove(waiter)
        self._used += weight

    def release(self, weight: int) -> None:
        self._used -= weight
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)


def connection_of(session: Session) -> Connection:
    """The client as this server sees it: the PROXY header's source when one was accepted, else the TCP peer."""
    proxy = session.proxy_data
    if isinstance(proxy, ProxyData) and proxy.valid and proxy.src_addr is not None:
        ip = str(proxy.src_addr)
    else:
        peer = session.peer
        ip = str(peer[0]) if isinstance(peer, tuple) and peer else str(peer or "")
    return Connection(ip=ip, helo=session.host_name or None)


def hop_of(session: Session, envelope: Envelope, server_name: str) -> SmtpHop:
    """The transaction as its Received trace field records it."""
    connection = connection_of(session)
    return SmtpHop(
        helo=session.host_name or None,
        ip=connection.ip,
        by=server_name,
        esmtp=bool(session.extended_smtp),
        tls=session.ssl is not None,
        recipients=tuple(envelope.rcpt_tos),
        transaction_id=new_id("rcv").removeprefix("rcv_"),
    )


def mx_extensions(responses: list[str]) -> list[str]:
    """aiosmtpd's EHLO lines without AUTH (no login can succeed on the MX: that belongs to a submission port) and
    with ENHANCEDSTATUSCODES (RFC 2034), which every reply of this server carries."""
    lines = [line for line in responses if not line[4:].upper().startswith("AUTH")]
    return [*lines[:-1], f"250-{ENHANCED_STATUS_CODES}", lines[-1]]


class IngressHandler:
    def __init__(
        self,
        receive: ReceiveService,
        max_recipients: int,
        store_budget_bytes: int,
        trusted_relays: tuple[Network, ...] = (),
        server_name: str = "localhost",
    ) -> None:
        self._server_name = server_name
        self._receive = receive
        self._max_recipients = max_recipients
        self._budget = ByteBudget(store_budget_bytes)
        self._large = ThreadPoolExecutor(max_workers=1, thread_name_prefix="postroom-smtp-large")
        self._trusted_relays = trusted_relays
        # The inbox each accepted RCPT delivers to, in RCPT order (a role address names another inbox than its own).
        self._destinations: WeakKeyDictionary[Envelope, list[str]] = WeakKeyDictionary()

    async def handle_PROXY(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, proxy_data: ProxyData
    ) -> bool:
        """A PROXY header is believed only from a trusted relay; any other peer is disconnected."""
        peer = session.peer
        peer_ip = str(peer[0]) if isinstance(peer, tuple) and peer else ""
        if not is_trusted(peer_ip, self._trusted_relays):
            log.warning("PROXY header from %s, which is not in POSTROOM_SMTP_TRUSTED_RELAYS: closing", peer_ip)
            return False
        return bool(proxy_data.valid)

    async def handle_EHLO(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname  # aiosmtpd leaves this to a handler that has this hook
        return mx_extensions(responses)

    async def handle_MAIL(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, mail_options: list[str]
    ) -> str:
        envelope.mail_from = address  # aiosmtpd leaves this to a handler that has this hook
        envelope.mail_options.extend(mail_options)
        return SENDER_OK

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if len(envelope.rcpt_tos) >= self._max_recipients:
            return TOO_MANY_RECIPIENTS
        try:
            inbox_id = await asyncio.to_thread(self._receive.accept_recipient, address)
        except Exception as error:
            reply = reply_for(error)
            if reply == TRY_AGAIN:
                log.exception("RCPT %s failed", address)
            return reply
        self._destinations.setdefault(envelope, []).append(inbox_id)
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return RECIPIENT_OK

    async def handle_exception(self, error: Exception) -> str:
        """Anything unexpected inside a command: the sender should try again later (nothing was acknowledged)."""
        log.error("SMTP session error", exc_info=error)
        return TRY_AGAIN

    async def store(self, session: Session, envelope: Envelope, spool: IO[bytes], size: int) -> str:
        """Store the spooled message (closed here) once per recipient inbox; the reply for the end of DATA."""
        inbox_ids = self._destinations.pop(envelope, [])
        if not inbox_ids:
            spool.close()
            return NO_RECIPIENTS
        try:
            weight = self._budget.weight(size)
            await self._budget.acquire(weight)
        except BaseException:
            spool.close()
            raise
        started = time.perf_counter()
        loop = asyncio.get_running_loop()
        executor = self._large if size > LARGE_MESSAGE_BYTES else None
        connection = connection_of(session)
        inbound = InboundMessage(
            b"", envelope.mail_from, inbox_ids, origin=connection, hop=hop_of(session, envelope, self._server_name)
        )
        work = loop.run_in_executor(executor, self._store, spool, inbound)
        work.add_done_callback(lambda _: self._budget.release(weight))
        try:
            stored = await asyncio.shield(work)  # a dropped connection does not free the budget before the work ends
        except Refused as refusal:
            log.info("refused message from %s (%s): %s", envelope.mail_from, connection.ip, refusal.message)
            SMTP_MESSAGES.labels("refused").inc()
            return reply_for(refusal)
        except Exception:
            log.exception("storing a message from %s failed", envelope.mail_from)
            SMTP_MESSAGES.labels("failed").inc()
            return TRY_AGAIN
        finally:
            INGEST_LATENCY.observe(time.perf_counter() - started)
        log.info("accepted message from %s for %d inbox(es)", envelope.mail_from, len(stored))
        SMTP_MESSAGES.labels("accepted").inc()
        return ACCEPTED

    def _store(self, spool: IO[bytes], inbound: InboundMessage) -> list[str]:
        try:
            spool.seek(0)
            raw = spool.read()
        finally:
            spool.close()
        return self._receive.store(replace(inbound, raw=raw))
