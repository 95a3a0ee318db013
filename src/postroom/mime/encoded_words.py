"""RFC 2047 encoded words, decoded by hand and leniently: malformed words stay as written, never an exception.

Adjacent words in one charset are joined first (mailers split characters across words); unknown charsets fall back.
"""

from __future__ import annotations

import base64
import binascii
import re

from postroom.mime.charset import decode_text

# charset (optionally *language, RFC 2231), B or Q, encoded text without "?" (Q text with spaces is tolerated).
_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,64})\?([bBqQ])\?([^?]*)\?=")
_BASE64_TEXT = re.compile(r"[A-Za-z0-9+/=\s]*")
_NOT_BASE64 = re.compile(r"[^A-Za-z0-9+/]")


def _decode_b(text: str) -> bytes:
    if not _BASE64_TEXT.fullmatch(text):
        raise ValueError("not base64")
    data = _NOT_BASE64.sub("", text)
    if len(data) % 4 == 1:
        data = data[:-1]
    return base64.b64decode(data + "=" * (-len(data) % 4))


def _decode_q(text: str) -> bytes:
    return binascii.a2b_qp(text.encode("utf-8", "replace"), header=True)


def _word_bytes(encoding: str, text: str) -> bytes | None:
    try:
        return _decode_b(text) if encoding in "bB" else _decode_q(text)
    except (binascii.Error, ValueError):
        return None


def decode_words(value: str) -> str:
    """`value` with every RFC 2047 encoded word replaced by its text; whitespace between adjacent words dropped."""
    if "=?" not in value:
        return value
    out: list[str] = []
    pending = b""
    pending_charset: str | None = None
    position = 0

    def flush() -> None:
        nonlocal pending, pending_charset
        if pending_charset is not None:
            out.append(decode_text(pending, pending_charset))
        pending, pending_charset = b"", None

    for match in _ENCODED_WORD.finditer(value):
        between = value[position : match.start()]
        position = match.end()
        charset, encoding, text = match.groups()
        data = _word_bytes(encoding, text)
        adjacent = pending_charset is not None and not between.strip()
        if data is None:
            flush()
            out.extend((between, match.group(0)))
            continue
        if not adjacent or (pending_charset or "").lower() != charset.lower():
            flush()
            if not adjacent:
                out.append(between)
        pending += data
        pending_charset = charset
    flush()
    out.append(value[position:])
    return "".join(out)
