"""Open SMTP sessions kept for the next message to the same hop (as MTAs cache connections), closed when idle.

A session is only parked after a transaction that ended cleanly; whoever takes it sends RSET first, so a session
the peer dropped meanwhile is noticed before any message data is sent.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

import aiosmtplib

IDLE_SECONDS = 5.0  # well below the 300 s RFC 5321 §4.5.3.2.7 lets a server wait, so peers rarely drop us first
MAX_IDLE_PER_HOP = 8
MAX_MESSAGES_PER_SESSION = 100  # bounds how long one session lives, as Postfix's reuse limits do
QUIT_SECONDS = 5.0  # a peer slow to answer QUIT must not hold up a shutdown


@dataclass
class Session:
    """An open, greeted (and, where wanted, secured and authenticated) client, and how many messages it carried."""

    client: aiosmtplib.SMTP
    messages: int = 0
    parked_at: float = field(default=0.0)


class SmtpSessions:
    def __init__(
        self,
        *,
        idle_seconds: float = IDLE_SECONDS,
        max_idle_per_hop: int = MAX_IDLE_PER_HOP,
        max_messages: int = MAX_MESSAGES_PER_SESSION,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.idle_seconds = idle_seconds
        self._max_idle = max_idle_per_hop
        self._max_messages = max_messages
        self._monotonic = monotonic
        self._idle: dict[Hashable, list[Session]] = {}

    def take(self, key: Hashable) -> Session | None:
        """The most recently parked session to this hop, if any; the caller owns it (park it or close it)."""
        parked = self._idle.get(key)
        while parked:
            session = parked.pop()
            if session.client.is_connected and self._monotonic() - session.parked_at < self.idle_seconds:
                return session
            session.client.close()  # expired: a late QUIT is pointless, the peer may already have gone
        return None

    async def park(self, key: Hashable, session: Session) -> None:
        """Keep a session that finished a transaction cleanly for the next message, or close it."""
        session.messages += 1
        parked = self._idle.setdefault(key, [])
        if not session.client.is_connected or session.messages >= self._max_messages or len(parked) >= self._max_idle:
            await close(session.client)
            return
        session.parked_at = self._monotonic()
        parked.append(session)

    async def close_idle(self) -> int:
        """Close sessions parked longer than ``idle_seconds``; returns how many were closed."""
        now = self._monotonic()
        expired: list[Session] = []
        for key, parked in list(self._idle.items()):
            keep = [session for session in parked if now - session.parked_at < self.idle_seconds]
            expired.extend(session for session in parked if now - session.parked_at >= self.idle_seconds)
            if keep:
                self._idle[key] = keep
            else:
                del self._idle[key]
        await asyncio.gather(*(close(session.client) for session in expired))
        return len(expired)

    async def close_all(self) -> None:
        sessions = [session for parked in self._idle.values() for session in parked]
        self._idle.clear()
        await asyncio.gather(*(close(session.client) for session in sessions))

    @property
    def idle_count(self) -> int:
        return sum(len(parked) for parked in self._idle.values())


async def close(client: aiosmtplib.SMTP) -> None:
    """QUIT politely; a peer that is gone or answers badly is simply disconnected."""
    if not client.is_connected:
        return
    try:
        await client.quit(timeout=QUIT_SECONDS)
    except (aiosmtplib.SMTPException, OSError):
        client.close()
