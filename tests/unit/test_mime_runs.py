"""Cutting base64 runs out before parsing (mime.runs) gives exactly what parsing the whole message gives."""

from __future__ import annotations

import base64
import os
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from postroom.mime.parse import ParsedMessage, parse_message, parse_without_runs
from postroom.mime.runs import cut_runs
from tests.unit.test_mime_fuzz import MUTATIONS

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
FILES = {path.name: path.read_bytes() for path in sorted(CORPUS.glob("*.eml"))}
DOMAIN = "runs.example"
WHOLE = 1 << 62  # no run is ever this long: the message is parsed whole


def same_shape(parsed: ParsedMessage) -> ParsedMessage:
    """The message without its generated Message-ID, which is random on every parse."""
    return replace(parsed, message_id="<generated>") if parsed.message_id_generated else parsed


def both_ways(raw: bytes) -> tuple[ParsedMessage, ParsedMessage]:
    whole = parse_message(raw, fallback_domain=DOMAIN, min_run_bytes=WHOLE)
    cut = parse_message(raw, fallback_domain=DOMAIN, min_run_bytes=1)
    return same_shape(whole), same_shape(cut)


@pytest.mark.parametrize("name", sorted(FILES))
def test_every_corpus_message_parses_the_same_with_runs_cut(name: str) -> None:
    whole, cut = both_ways(FILES[name])
    assert cut == whole


def test_base64_corpus_messages_take_the_cut_path() -> None:
    """The comparison above means something: these messages really are parsed with their runs cut out."""
    for name in ("15-base64-bodies.eml", "19-attachments-several-types.eml", "44-outlook-tnef-winmail.eml"):
        assert cut_runs(FILES[name], 1) is not None, name
        assert parse_without_runs(FILES[name], DOMAIN, 1) is not None, name


def _message(body_headers: str, body: bytes, outer: str = "multipart/mixed") -> bytes:
    head = f'From: a@example.org\r\nMessage-ID: <m@example.org>\r\nContent-Type: {outer}; boundary="b"\r\n\r\n'
    return (
        head.encode()
        + b"--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b\r\n"
        + body_headers.encode()
        + b"\r\n"
        + body
        + b"\r\n--b--\r\n"
    )


def _base64_lines(data: bytes, width: int = 76) -> bytes:
    encoded = base64.b64encode(data)
    return b"\r\n".join(encoded[i : i + width] for i in range(0, len(encoded), width))


PAYLOAD = os.urandom(300_001)
B64 = "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
CASES = {
    "attachment": _message(B64, _base64_lines(PAYLOAD)),
    "odd line width": _message(B64, _base64_lines(PAYLOAD, 57)),
    "padding missing": _message(B64, _base64_lines(PAYLOAD).rstrip(b"=")),
    "one letter too many": _message(B64, _base64_lines(PAYLOAD).rstrip(b"=") + b"\r\nQQQ"),  # 4n + 1 letters
    "stray characters at the end": _message(B64, _base64_lines(PAYLOAD) + b"\r\n!!*"),
    "stray character before the run": _message(B64, b"QUJD*\r\n" + _base64_lines(PAYLOAD)),
    "padding in the middle": _message(B64, _base64_lines(PAYLOAD[:3000]) + b"\r\n" + _base64_lines(PAYLOAD)),
    "text part": _message("Content-Type: text/plain\r\n", _base64_lines(PAYLOAD)),
    "quoted-printable": _message(
        "Content-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n", _base64_lines(PAYLOAD)
    ),
    "uuencode": _message("Content-Type: text/plain\r\nContent-Transfer-Encoding: x-uuencode\r\n", b"AAAA\r\n" * 9),
    "forwarded message": _message("Content-Type: message/rfc822\r\n", _message(B64, _base64_lines(PAYLOAD))),
    "no closing boundary": _message(B64, _base64_lines(PAYLOAD)).removesuffix(b"\r\n--b--\r\n"),
    "boundary never appears": _message(B64, _base64_lines(PAYLOAD)).replace(b"--b", b"--x"),
    "single part": b"Content-Transfer-Encoding: base64\r\n\r\n" + _base64_lines(PAYLOAD),
    "no header section": _base64_lines(PAYLOAD),
    "bare line feeds": _message(B64, _base64_lines(PAYLOAD)).replace(b"\r\n", b"\n"),
    "mixed line ends": _message(B64, _base64_lines(PAYLOAD).replace(b"\r\n", b"\n", 50)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_large_parts_parse_the_same_with_runs_cut(name: str) -> None:
    whole, cut = both_ways(CASES[name])
    assert cut == whole


def test_a_base64_attachment_is_decoded_without_parsing_it_whole() -> None:
    parsed = parse_without_runs(CASES["attachment"], DOMAIN, 1024)
    assert parsed is not None
    assert [part.content for part in parsed.attachments] == [PAYLOAD]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_messages_parse_the_same_with_runs_cut(data: st.DataObject) -> None:
    raw = data.draw(st.sampled_from([FILES["15-base64-bodies.eml"], FILES["19-attachments-several-types.eml"]]))
    for mutate in data.draw(st.lists(st.sampled_from(MUTATIONS), min_size=1, max_size=3), label="mutations"):
        raw = mutate(raw, data.draw)
    whole, cut = both_ways(raw)
    assert cut == whole


TRACE = b"Received: from relay.example ([192.0.2.1])\r\n\tby mx.example; Tue, 1 Dec 2026 10:00:00 +0000\r\n"


@pytest.mark.parametrize("name", sorted(FILES) + sorted(CASES))
def test_header_lines_given_apart_parse_as_if_on_top(name: str) -> None:
    raw = FILES.get(name) or CASES[name]
    on_top = parse_message(TRACE + raw, fallback_domain=DOMAIN)
    apart = parse_message(raw, fallback_domain=DOMAIN, prefix=TRACE, min_run_bytes=1)
    assert same_shape(apart) == same_shape(on_top)


def test_header_lines_given_apart_with_a_nul_in_the_message() -> None:
    raw = b"\r\nSubject: \x00 not a header\r\n\r\nbody\x00\r\n"
    on_top = parse_message(TRACE + raw, fallback_domain=DOMAIN)
    assert same_shape(parse_message(raw, fallback_domain=DOMAIN, prefix=TRACE)) == same_shape(on_top)
