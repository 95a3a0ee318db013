"""Pins every aiosmtpd behaviour smtp/aiosmtpd_seam.py relies on: if an aiosmtpd release changes one, this fails
with the name of the member before any mail is lost."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiosmtpd.smtp import Envelope

from postroom.smtp.aiosmtpd_seam import PRIVATE_MEMBERS, StreamingSMTP, missing_members


@dataclass
class Observed:
    data_lines: list[bytes] = field(default_factory=list)
    envelopes: list[Envelope] = field(default_factory=list)
    idle: asyncio.Event = field(default_factory=asyncio.Event)
    idle_count: int = 0
    overruns: int = 0
    protocols: list[Probe] = field(default_factory=list)


class Probe(StreamingSMTP):
    """Reads DATA itself through the seam, as IngressSMTP does, and records what it saw."""

    def __init__(self, observed: Observed, timeout: float) -> None:
        super().__init__(object(), hostname="seam.test", timeout=timeout)
        self.observed = observed
        observed.protocols.append(self)

    async def smtp_DATA(self, arg: str) -> None:
        assert self.envelope is not None
        self.observed.envelopes.append(self.envelope)
        await self.push("354 go on")
        reader = self.data_reader()
        while True:
            try:
                line = await reader.readuntil(b"\n")
            except asyncio.LimitOverrunError as error:
                self.observed.overruns += 1
                await reader.read(error.consumed)
                continue
            if line == b".\r\n":
                break
            self.observed.data_lines.append(line)
        self.reset_envelope()
        await self.push("250 stored")

    def on_idle(self) -> None:
        self.observed.idle_count += 1
        self.observed.idle.set()
        self.write_line("421 idle")


@asynccontextmanager
async def probe_server(timeout: float = 300) -> AsyncIterator[tuple[Observed, int]]:
    observed = Observed()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Probe(observed, timeout), "127.0.0.1", 0)
    try:
        yield observed, server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


async def reply(reader: asyncio.StreamReader) -> bytes:
    while (line := await asyncio.wait_for(reader.readline(), 10))[3:4] == b"-":
        pass
    return line


def run(test: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(test(), 30))


def test_every_private_member_relied_on_exists() -> None:
    assert missing_members() == []
    assert set(PRIVATE_MEMBERS) == {"_cb_client_connected", "_reset_timeout", "_timeout_cb", "_set_post_data_state"}


def test_data_is_dispatched_to_our_method_and_read_from_the_command_stream() -> None:
    async def test() -> None:
        async with probe_server() as (observed, port):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            await reply(reader)
            # One write: the DATA lines arrive in the buffer aiosmtpd's command loop reads from.
            writer.write(b"EHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\none\r\ntwo\n.\r\nNOOP\r\n")
            replies = [await reply(reader) for _ in range(6)]
            assert [r[:3] for r in replies] == [b"250", b"250", b"250", b"354", b"250", b"250"], replies
            assert observed.data_lines == [b"one\r\n", b"two\n"]
            assert observed.envelopes[0].rcpt_tos == ["b@y"]
            writer.close()

    run(test)


def test_reset_envelope_ends_the_transaction_and_keeps_the_session() -> None:
    async def test() -> None:
        async with probe_server() as (observed, port):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            await reply(reader)
            writer.write(b"EHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n.\r\n")
            for _ in range(5):
                await reply(reader)
            # Without a fresh envelope aiosmtpd would answer "503 nested MAIL".
            writer.write(b"MAIL FROM:<c@x>\r\nRCPT TO:<d@y>\r\nDATA\r\n.\r\n")
            replies = [await reply(reader) for _ in range(4)]
            assert [r[:3] for r in replies] == [b"250", b"250", b"354", b"250"], replies
            first, second = observed.envelopes
            assert first is not second
            assert (first.mail_from, second.mail_from) == ("a@x", "c@x")
            assert second.rcpt_tos == ["d@y"]
            writer.close()

    run(test)


def test_the_idle_timer_calls_on_idle_and_restarting_it_arms_it_again() -> None:
    async def test() -> None:
        async with probe_server(timeout=0.05) as (observed, port):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            await reply(reader)
            await observed.idle.wait()
            assert await reply(reader) == b"421 idle\r\n"  # written through the seam's writer
            observed.idle.clear()
            [protocol] = observed.protocols
            protocol.restart_idle_timer()
            await observed.idle.wait()
            assert observed.idle_count == 2
            writer.close()

    run(test)


def test_the_line_length_limit_sizes_the_stream_buffer() -> None:
    """IngressSMTP sets ``line_length_limit`` before SMTP.__init__ builds its StreamReader from it."""

    class Limited(Probe):
        line_length_limit = 64

    async def test() -> None:
        observed = Observed()
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: Limited(observed, 300), "127.0.0.1", 0)
        reader, writer = await asyncio.open_connection("127.0.0.1", server.sockets[0].getsockname()[1])
        await reply(reader)
        writer.write(b"EHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n" + b"x" * 200 + b"\r\nshort\r\n.\r\n")
        replies = [await reply(reader) for _ in range(5)]
        assert replies[-1][:3] == b"250", replies
        assert observed.overruns >= 1
        assert observed.data_lines[-1] == b"short\r\n"
        writer.close()
        server.close()
        await server.wait_closed()

    run(test)
