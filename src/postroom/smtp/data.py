"""Reads one SMTP DATA section (RFC 5321 §4.1.1.4, §4.5.2) from a stream into a spool, never whole in memory.

Lines end at LF: a line ending in a bare LF is accepted and stored with CRLF (as aiosmtpd, Mailpit and Postfix's
`normalize` mode do). Only <CRLF>.<CRLF> ends the data: a dot line after a bare LF, or one ending in a bare LF, is
content, so one transaction can never be split into two messages (SMTP smuggling).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from postroom.smtp.replies import LINE_TOO_LONG, TOO_BIG

WRITE_CHUNK_BYTES = 64 * 1024
# Every read is activity, but restarting the idle timer costs a timer handle: it restarts at most this often, so a
# session is cut after (idle timeout - this) seconds of silence at the earliest.
PROGRESS_SECONDS = 0.1
CRLF = b"\r\n"
END_OF_DATA = b".\r\n"


@dataclass(frozen=True)
class DataLimits:
    max_message_bytes: int | None  # None or 0: unlimited
    max_line_bytes: int  # CRLF included, after the transparency dot is removed


@dataclass(frozen=True)
class DataOutcome:
    size: int  # bytes written to the spool
    refusal: str | None  # the reply for a refused message (nothing of it is kept), else None


async def read_data(
    reader: asyncio.StreamReader, spool: IO[bytes], limits: DataLimits, on_progress: Callable[[], None]
) -> DataOutcome:
    """Read up to the lone dot into ``spool`` (dot-unstuffed, line ends as CRLF); ``on_progress`` as bytes arrive.

    ``on_progress`` (the idle timer's restart) follows every read, at most once per ``PROGRESS_SECONDS``: a client
    that keeps sending, however slowly, is never idle.

    A line longer than the reader's buffer limit is drained piece by piece and refused; a closed connection raises
    ``ConnectionResetError``.
    """
    limit = limits.max_message_bytes
    pending = bytearray()
    received = 0
    refusal: str | None = None
    fragment = False  # the previous read ended inside an overlong line
    tail = CRLF  # the last two bytes read (the DATA command's own line ended in CRLF)
    loop = asyncio.get_running_loop()
    progress_at = loop.time()
    while True:
        try:
            line = await reader.readuntil(b"\n")
            continued, fragment = fragment, False
        except asyncio.LimitOverrunError as error:
            line = await reader.read(error.consumed)  # discard the overlong line piece by piece
            continued, fragment = fragment, True
            refusal = refusal or LINE_TOO_LONG
        except asyncio.IncompleteReadError as error:
            raise ConnectionResetError("connection lost during DATA") from error
        if not line:
            raise ConnectionResetError("connection lost during DATA")
        now = loop.time()
        if now - progress_at >= PROGRESS_SECONDS:
            on_progress()
            progress_at = now
        if line == END_OF_DATA and tail == CRLF and not continued:
            break
        tail = (tail + line)[-2:]
        received += len(line)
        if refusal is None:
            text = _normalised(line)
            if limit and received > limit:
                refusal = TOO_BIG
            elif len(text) > limits.max_line_bytes:
                refusal = LINE_TOO_LONG
            else:
                pending += text
                if len(pending) >= WRITE_CHUNK_BYTES:
                    spool.write(pending)
                    pending.clear()
        elif pending:
            pending = bytearray()  # nothing more of a refused message is held
    if refusal is not None:
        return DataOutcome(0, refusal)  # the caller discards the spool
    spool.write(pending)
    return DataOutcome(spool.tell(), None)


def _normalised(line: bytes) -> bytes:
    """One received line as stored: the sender's transparency dot removed, a bare LF ending made CRLF."""
    if line[:1] == b"." and line not in (b".\n", END_OF_DATA):
        line = line[1:]  # a lone dot that did not end DATA (after a bare LF) stays visible as content
    if line.endswith(b"\n") and not line.endswith(CRLF):
        return line[:-1] + CRLF
    return line
