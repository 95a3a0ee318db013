"""Headers read from the header section alone are the headers the email package reads from the whole message."""

from __future__ import annotations

from email.parser import BytesHeaderParser
from email.policy import compat32
from pathlib import Path

import pytest

from postroom.mime.header_section import header_section, parse_headers

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
MESSAGES = {path.name: path.read_bytes() for path in sorted(CORPUS.glob("*.eml"))} | {
    "bare line feeds": b"From: a@x.test\nTo: b@x.test\n\nFrom: body@x.test\n",
    "bare carriage returns": b"From: a@x.test\rTo: b@x.test\r\rFrom: body@x.test\r",
    "blank first line": b"\r\nFrom: body@x.test\r\n\r\nmore\r\n",
    "no blank line": b"From: a@x.test\r\nTo: b@x.test\r\n",
    "no header section": b"just text\r\nFrom: body@x.test\r\n\r\n",
    "folded": b"Subject: one\r\n two\r\nFrom: a@x.test\r\n\r\nFrom: body@x.test\r\n",
}


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_headers_are_those_of_the_whole_message(name: str) -> None:
    raw = MESSAGES[name]
    whole = BytesHeaderParser(policy=compat32).parsebytes(raw)
    assert parse_headers(raw).items() == whole.items()


def test_the_body_is_not_read() -> None:
    raw = b"From: a@x.test\r\n\r\n" + b"x" * 100_000
    assert header_section(raw) == b"From: a@x.test\r\n\r\n"
