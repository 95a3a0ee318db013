"""A small asyncio SMTP client for the ingest benchmark: one connection per session, many transactions on it.

Messages are sent with CRLF line ends and already dot-stuffed, so no per-line work happens in the load generator.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass


class SmtpReplyError(Exception):
    """The server answered with a code the client did not expect."""


@dataclass(frozen=True)
class Outgoing:
    header: bytes  # the per-message part (carries a unique Message-ID)
    body: bytes  # shared between messages: CRLF line ends, dot-stuffed, ends with CRLF


async def _reply(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    lines = []
    while True:
        line = await reader.readline()
        if not line:
            raise SmtpReplyError("connection closed")
        lines.append(line)
        if line[3:4] != b"-":
            return int(line[:3]), b"".join(lines)


async def _expect(reader: asyncio.StreamReader, code: int) -> None:
    got, text = await _reply(reader)
    if got != code:
        raise SmtpReplyError(text.decode(errors="replace").strip())


async def session(host: str, port: int, rcpt: str, messages: Sequence[Outgoing], latencies: list[float]) -> int:
    """Send every message in its own transaction over one connection; returns how many got a 250."""
    reader, writer = await asyncio.open_connection(host, port, limit=1 << 20)
    sent = 0
    try:
        await _expect(reader, 220)
        writer.write(b"EHLO bench.example.org\r\n")
        await _expect(reader, 250)
        for message in messages:
            started = time.perf_counter()
            size = len(message.header) + len(message.body)
            writer.write(f"MAIL FROM:<bench@example.org> SIZE={size}\r\n".encode())
            await _expect(reader, 250)
            writer.write(f"RCPT TO:<{rcpt}>\r\n".encode())
            await _expect(reader, 250)
            writer.write(b"DATA\r\n")
            await _expect(reader, 354)
            writer.write(message.header)
            writer.write(message.body)
            writer.write(b".\r\n")
            await writer.drain()
            await _expect(reader, 250)
            latencies.append(time.perf_counter() - started)
            sent += 1
        writer.write(b"QUIT\r\n")
        await _expect(reader, 221)
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    return sent
