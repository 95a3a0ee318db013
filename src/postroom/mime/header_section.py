"""The header section of a raw message (RFC 5322 §2.1) parsed on its own: a header-only parse of the whole message
would still decode the body to a str and keep it, 20 MB for a 20 MB message.
"""

from __future__ import annotations

import re
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32

# A blank line after a line end, with the line ends the email package knows (CRLF, LF, bare CR).
_BLANK_LINE = re.compile(rb"\n\n|\n\r|\r\r")


def header_section(raw: bytes) -> bytes:
    """``raw`` up to its first blank line, line end included: what the email package reads headers from."""
    blank = _BLANK_LINE.search(raw)
    return raw if blank is None else raw[: blank.end() + 1]


def parse_headers(raw: bytes) -> Message:
    """The message's headers as ``BytesHeaderParser(policy=compat32)`` gives them, without reading the body."""
    return BytesHeaderParser(policy=compat32).parsebytes(header_section(raw))
