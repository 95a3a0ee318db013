"""Property tests: parse_message never raises, whatever the bytes, and always hands back a usable message."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from postroom.mime.html import html_to_text
from postroom.mime.parse import ParsedMessage, parse_message

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
FILES = {path.name: path.read_bytes() for path in sorted(CORPUS.glob("*.eml"))}
SMALL = sorted(name for name, data in FILES.items() if len(data) < 20_000)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BOUNDARY = re.compile(rb'boundary="?([^";\r\n]+)"?', re.IGNORECASE)


def check(raw: bytes) -> ParsedMessage:
    message = parse_message(raw, fallback_domain="fuzz.example")
    assert re.fullmatch(r"<[^<>\s]+>", message.message_id)
    strings = [message.subject, message.from_, message.from_address, message.text, message.html, message.preview]
    strings += [*message.to, *message.cc, *message.bcc, *message.reply_to, *message.references]
    strings += [*message.headers, *message.headers.values(), message.in_reply_to]
    strings += [item.filename for item in message.attachments] + [item.content_id for item in message.attachments]
    for value in strings:
        if value is not None:
            assert isinstance(value, str)
            assert "\x00" not in value
            value.encode("utf-8")  # no lone surrogates: storable in PostgreSQL and JSON
    assert message.date is None or message.date.tzinfo is not None
    assert (message.preview is None) == (message.text is None)
    for attachment in message.attachments:
        assert isinstance(attachment.content, bytes)
        assert re.fullmatch(r"[a-z0-9!#$%&'*+.^_`|~-]+/[a-z0-9!#$%&'*+.^_`|~-]+", attachment.content_type)
        assert attachment.content_disposition in ("inline", "attachment", None)
    return message


@FUZZ
@given(st.binary(max_size=4096))
def test_arbitrary_bytes(raw: bytes) -> None:
    check(raw)


HEADER_NAMES = st.sampled_from(
    ["From", "To", "Cc", "Bcc", "Reply-To", "Subject", "Date", "Message-ID", "In-Reply-To", "References",
     "Content-Type", "Content-Disposition", "Content-Transfer-Encoding", "Content-ID", "X-Junk"]
)  # fmt: skip
HEADER_VALUES = st.one_of(
    st.text(max_size=200),
    st.from_regex(r"=\?[a-z0-9*-]{0,12}\?[bBqQx]\?[ -~]{0,40}\?=", fullmatch=True),
    st.from_regex(
        r'(multipart|text|message|image)/[a-z-]{0,12}(; ?[a-z*0-9]{1,12}="?[ -~]{0,30}"?){0,3}', fullmatch=True
    ),
    st.binary(max_size=120).map(lambda data: data.decode("latin-1")),
)


@FUZZ
@given(st.lists(st.tuples(HEADER_NAMES, HEADER_VALUES), max_size=12), st.binary(max_size=600))
def test_arbitrary_headers(headers: list[tuple[str, str]], body: bytes) -> None:
    head = b"".join(
        name.encode() + b": " + value.encode("utf-8", "surrogatepass").replace(b"\n", b"\r\n ") + b"\r\n"
        for name, value in headers
    )
    check(head + b"\r\n" + body)


def _truncate(data: bytes, draw: st.DrawFn) -> bytes:
    return data[: draw(st.integers(0, len(data)))]


def _flip_bytes(data: bytes, draw: st.DrawFn) -> bytes:
    if not data:
        return data
    mutable = bytearray(data)
    for _ in range(draw(st.integers(1, 20))):
        mutable[draw(st.integers(0, len(mutable) - 1))] = draw(st.integers(0, 255))
    return bytes(mutable)


def _delete_boundaries(data: bytes, draw: st.DrawFn) -> bytes:
    boundaries = BOUNDARY.findall(data)
    if not boundaries:
        return data
    boundary = draw(st.sampled_from(boundaries))
    lines = data.split(b"\r\n")
    marked = [index for index, line in enumerate(lines) if line.startswith(b"--" + boundary)]
    doomed = set(draw(st.lists(st.sampled_from(marked), max_size=len(marked)))) if marked else set()
    return b"\r\n".join(line for index, line in enumerate(lines) if index not in doomed)


def _duplicate_headers(data: bytes, draw: st.DrawFn) -> bytes:
    lines = data.split(b"\r\n")
    header_lines = [index for index, line in enumerate(lines) if b":" in line[:80] and not line[:1].isspace()]
    if not header_lines:
        return data
    for _ in range(draw(st.integers(1, 6))):
        index = draw(st.sampled_from(header_lines))
        lines.insert(draw(st.integers(0, len(lines))), lines[index])
    return b"\r\n".join(lines)


def _splice(data: bytes, draw: st.DrawFn) -> bytes:
    start = draw(st.integers(0, len(data)))
    end = draw(st.integers(start, min(len(data), start + 2000)))
    junk = draw(st.binary(max_size=64))
    return data[:start] + junk + data[end:]


def _line_ends(data: bytes, draw: st.DrawFn) -> bytes:
    return data.replace(b"\r\n", draw(st.sampled_from([b"\n", b"\r", b"\n\r", b"\r\r\n"])))


MUTATIONS = [_truncate, _flip_bytes, _delete_boundaries, _duplicate_headers, _splice, _line_ends]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_corpus(data: st.DataObject) -> None:
    raw = FILES[data.draw(st.sampled_from(SMALL), label="file")]
    for mutate in data.draw(st.lists(st.sampled_from(MUTATIONS), min_size=1, max_size=3), label="mutations"):
        raw = mutate(raw, data.draw)
    check(raw)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(FILES)))
def test_unmutated_corpus(name: str) -> None:
    assert not check(FILES[name]).message_id_generated or name.startswith("29-")


@FUZZ
@given(st.text(max_size=2000))
def test_html_to_text_arbitrary(html: str) -> None:
    assert isinstance(html_to_text(html), str)
