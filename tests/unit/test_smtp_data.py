"""Reading DATA: bare LF lines normalised to CRLF, dot-unstuffing, limits, and only <CRLF>.<CRLF> ending the data."""

from __future__ import annotations

import asyncio
import io

import pytest

from postroom.smtp.data import DataLimits, DataOutcome, read_data
from postroom.smtp.replies import LINE_TOO_LONG, TOO_BIG

LIMITS = DataLimits(max_message_bytes=1024 * 1024, max_line_bytes=1000)


def read(wire: bytes, limits: DataLimits = LIMITS, buffer_limit: int = 64 * 1024) -> tuple[DataOutcome, bytes, bytes]:
    """Feed ``wire`` (what follows the 354) to read_data: its outcome, the spool, and what is left for commands."""

    async def main() -> tuple[DataOutcome, bytes, bytes]:
        reader = asyncio.StreamReader(limit=buffer_limit)
        reader.feed_data(wire)
        reader.feed_eof()
        spool = io.BytesIO()
        outcome = await read_data(reader, spool, limits, lambda: None)
        return outcome, spool.getvalue(), await reader.read()

    return asyncio.run(main())


def test_crlf_lines_are_kept_and_transparency_dots_removed() -> None:
    outcome, stored, rest = read(b"Subject: a\r\n\r\n..dot\r\n.x\r\nend\r\n.\r\nQUIT\r\n")
    assert stored == b"Subject: a\r\n\r\n.dot\r\nx\r\nend\r\n"
    assert outcome == DataOutcome(len(stored), None)
    assert rest == b"QUIT\r\n"


def test_bare_lf_lines_are_normalised_to_crlf() -> None:
    outcome, stored, rest = read(b"Subject: a\n\nline one\n..dotted\nlast\r\n.\r\nQUIT\r\n")
    assert stored == b"Subject: a\r\n\r\nline one\r\n.dotted\r\nlast\r\n"
    assert outcome.refusal is None
    assert rest == b"QUIT\r\n"


def test_a_bare_lf_message_far_over_the_line_limit_is_accepted_line_by_line() -> None:
    body = b"".join(b"line %05d " % n + b"x" * 60 + b"\n" for n in range(1000))  # ~70 KB, 71-byte lines
    outcome, stored, _ = read(b"Subject: big\n\n" + body + b"\r\n.\r\n")
    assert outcome.refusal is None
    assert stored == (b"Subject: big\n\n" + body).replace(b"\n", b"\r\n") + b"\r\n"


# Every way a lone dot can be framed without being <CRLF>.<CRLF>: none ends DATA, so the commands after it stay
# inside this message (they are never run as a second transaction).
SMUGGLING = {
    "LF.LF": b"\n.\n",
    "CR.CR": b"\r.\r",
    "LF.CRLF": b"\n.\r\n",
    "CRLF.LF": b"\r\n.\n",
    "CR.CRLF": b"\r.\r\n",
    "CRLF.CR": b"\r\n.\r",
    "LF.CR": b"\n.\r",
}


@pytest.mark.parametrize("separator", SMUGGLING.values(), ids=SMUGGLING.keys())
def test_a_lone_dot_not_framed_by_crlf_does_not_end_data(separator: bytes) -> None:
    smuggled = b"MAIL FROM:<evil@example.org>\r\nRCPT TO:<x@postroom.localhost>\r\nDATA\r\nSubject: smuggled\r\n"
    outcome, stored, rest = read(b"Subject: a\r\n\r\nhello" + separator + smuggled + b"\r\n.\r\nQUIT\r\n")
    assert outcome.refusal is None
    assert b"MAIL FROM:<evil@example.org>" in stored
    assert b"Subject: smuggled" in stored
    assert rest == b"QUIT\r\n"


def test_a_line_over_the_limit_is_refused_and_nothing_is_kept() -> None:
    outcome, _, rest = read(b"a\r\n" + b"b" * 999 + b"\n" + b"c\r\n.\r\nQUIT\r\n")
    assert outcome == DataOutcome(0, LINE_TOO_LONG)
    assert rest == b"QUIT\r\n"


def test_a_line_beyond_the_stream_buffer_is_drained_and_refused() -> None:
    outcome, _, rest = read(b"a\r\n" + b"b" * 5000 + b"\r\n.\r\nQUIT\r\n", buffer_limit=1024)
    assert outcome == DataOutcome(0, LINE_TOO_LONG)
    assert rest == b"QUIT\r\n"


def test_a_dot_line_inside_an_overlong_line_does_not_end_data() -> None:
    wire = b"b" * 1024 + b".\r\n" + b"still the same message\r\n.\r\nQUIT\r\n"
    outcome, _, rest = read(wire, buffer_limit=1024)
    assert outcome.refusal == LINE_TOO_LONG
    assert rest == b"QUIT\r\n"


def test_data_over_the_size_limit_is_refused() -> None:
    outcome, _, rest = read(b"x" * 98 + b"\r\n" + b"y\r\n.\r\nQUIT\r\n", DataLimits(100, 1000))
    assert outcome == DataOutcome(0, TOO_BIG)
    assert rest == b"QUIT\r\n"


def test_a_connection_closed_inside_data_is_a_reset() -> None:
    with pytest.raises(ConnectionResetError):
        read(b"Subject: a\r\n\r\nno end")
