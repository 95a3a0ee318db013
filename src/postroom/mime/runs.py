"""Long runs of base64 lines cut out of a raw message before the email package parses it, and put back when a part's
bytes are decoded, so a 20 MB attachment is never held as a str, a list of line strings and a decoded copy at once.

Written by hand: the email package reads the whole message into one str, keeps every line as its own str while
parsing, and decodes a part only whole. A run is two or more lines of base64 letters ending in CRLF: such a line is
never a header, a boundary, a blank line or a continuation, so the parser builds the same tree around a short
stand-in line of base64 letters. The run's last line is always kept, so the line end the parser takes off
before a boundary is never one that was cut out.
"""

from __future__ import annotations

import base64
import binascii
import io
import quopri
import re
import secrets
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from email.message import Message

MIN_RUN_BYTES = 64 * 1024
DECODE_BLOCK_BYTES = 1024 * 1024
# Searched from each LF (a literal the regex engine finds fast; a run after a bare CR is left in place).
_RUN = re.compile(rb"\n((?:[A-Za-z0-9+/]++\r\n){2,}+)")
_BASE64_LETTERS = re.compile(rb"[A-Za-z0-9+/]*")


@dataclass
class Runs:
    """The cut-out runs of one message: stand-in line (CRLF included) -> its span in the original bytes."""

    original: bytes
    nonce: bytes
    spans: dict[bytes, tuple[int, int]]
    stand_in: re.Pattern[bytes]
    spoiled: bool = field(default=False)  # a stand-in line reached something it cannot be put back into

    def seen_in(self, data: bytes | str) -> bool:
        if isinstance(data, bytes):
            return self.nonce in data
        return self.nonce.decode() in data


_ACTIVE: ContextVar[Runs | None] = ContextVar("postroom_mime_runs", default=None)


def cut_runs(data: bytes, min_run_bytes: int = MIN_RUN_BYTES, prefix: bytes = b"") -> tuple[bytes, Runs] | None:
    """``prefix + data`` with every run in ``data`` of at least ``min_run_bytes`` replaced by a stand-in line;
    None when there is none."""
    if len(data) < min_run_bytes:
        return None
    nonce = secrets.token_hex(16).encode()
    spans: dict[bytes, tuple[int, int]] = {}
    pieces: list[bytes | memoryview] = [prefix]
    view = memoryview(data)
    kept = 0
    for match in _RUN.finditer(data):
        start, end = match.span(1)
        cut_end = data.rfind(b"\n", start, end - 2) + 1  # the run's last line stays
        if cut_end - start < max(1, min_run_bytes):
            continue
        token = nonce + b"%08d\r\n" % len(spans)
        spans[token] = (start, cut_end)
        pieces += [view[kept:start], token]
        kept = cut_end
    if not spans:
        return None
    pieces.append(view[kept:])
    runs = Runs(data, nonce, spans, re.compile(re.escape(nonce) + rb"[0-9]{8}\r\n"))
    return b"".join(pieces), runs


def activate(runs: Runs) -> object:
    """Make ``runs`` the ones part decoding in this context puts back; hand the result to ``deactivate``."""
    return _ACTIVE.set(runs)


def deactivate(token: object) -> None:
    _ACTIVE.reset(token)  # type: ignore[arg-type]  # the Token activate() returned


def check_generated(part: Message, data: bytes) -> None:
    """A message/* or multipart part regenerated as bytes: stand-in lines in it cannot be put back exactly (the
    generator may re-encode a part), so the message is parsed again whole."""
    runs = _ACTIVE.get()
    if runs is None:
        return
    if runs.seen_in(data) or any(_holds_stand_in(runs, sub) for sub in part.walk()):
        runs.spoiled = True


def _holds_stand_in(runs: Runs, part: Message) -> bool:
    texts = [part.preamble, part.epilogue, _parsed_payload(part)]
    return any(isinstance(text, str) and runs.seen_in(text) for text in texts)


def _parsed_payload(part: Message) -> object:
    """The payload as the parser stored it: ``get_payload()`` re-decodes a str holding undecodable bytes."""
    return getattr(part, "_payload", None)


def decoded_payload(part: Message) -> bytes | None:
    """The part's decoded bytes with its runs put back, exactly as ``get_payload(decode=True)`` gives them for the
    original bytes; None when the part holds no stand-in line (or no runs were cut)."""
    runs = _ACTIVE.get()
    payload = _parsed_payload(part) if runs is not None else None
    if runs is None or not isinstance(payload, str) or not runs.seen_in(payload):
        return None
    data = payload.encode("ascii", "surrogateescape")  # the bytes the parser decoded the str from
    cte = str(part.get("content-transfer-encoding", "")).lower()  # as get_payload() reads it
    if cte == "base64":
        return _base64(runs, data)
    if cte == "quoted-printable":
        return quopri.decodestring(_expanded(runs, data))
    if cte in ("x-uuencode", "uuencode", "uue", "x-uue"):
        runs.spoiled = True  # rare enough to parse again whole
        return b""
    return _expanded(runs, data)


def _segments(runs: Runs, data: bytes) -> Iterator[bytes | memoryview]:
    """The part's bytes in order, each stand-in line replaced by the run it stands for (as views, not copies)."""
    view = memoryview(runs.original)
    kept = 0
    for match in runs.stand_in.finditer(data):
        yield data[kept : match.start()]
        start, end = runs.spans[match.group()]
        yield view[start:end]
        kept = match.end()
    yield data[kept:]


def _expanded(runs: Runs, data: bytes) -> bytes:
    buffer = io.BytesIO()
    for segment in _segments(runs, data):
        buffer.write(segment)
    return buffer.getvalue()


def _base64(runs: Runs, data: bytes) -> bytes:
    """``email._encoded_words.decode_b`` over the part's lines joined, decoded a block at a time.

    Everything before the last small segment is base64 letters only (checked), so it decodes in whole quads the
    same way whatever comes after; the tail (the rest of the quads, padding, stray characters) goes through the
    email package's own fallbacks. Where those give back the undecoded text, the message is parsed again whole.
    """
    output = io.BytesIO()
    carry = b""
    segments = list(_segments(runs, data))
    for segment in segments[:-1]:
        for block in _blocks(segment):
            letters = carry + b"".join(block.splitlines())
            if not _BASE64_LETTERS.fullmatch(letters):
                runs.spoiled = True
                return b""
            whole = len(letters) // 4 * 4
            output.write(binascii.a2b_base64(letters[:whole]))
            carry = letters[whole:]
    tail = _decode_tail(carry + b"".join(bytes(segments[-1]).splitlines()))
    if tail is None:
        runs.spoiled = True
        return b""
    output.write(tail)
    return output.getvalue()


def _blocks(segment: bytes | memoryview) -> Iterator[bytes]:
    """The segment in blocks of whole lines (a line end is never split from its line)."""
    view = memoryview(segment)
    start = 0
    while start < len(view):
        end = min(len(view), start + DECODE_BLOCK_BYTES)
        while end < len(view) and view[end - 1] not in b"\r\n":
            end += 1
        if end < len(view) and view[end - 1] == ord("\r") and view[end] == ord("\n"):
            end += 1
        yield bytes(view[start:end])
        start = end


def _decode_tail(encoded: bytes) -> bytes | None:
    """``decode_b`` (email._encoded_words) without its defects; None where it hands the text back undecoded."""
    pad_err = len(encoded) % 4
    try:
        return base64.b64decode(encoded + (b"==="[: 4 - pad_err] if pad_err else b""), validate=True)
    except binascii.Error:
        pass
    for padding in (b"", b"=="):
        try:
            return base64.b64decode(encoded + padding, validate=False)
        except binascii.Error:
            continue
    return None
