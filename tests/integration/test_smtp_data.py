"""DATA over real SMTP on both databases: bare-LF messages from smtplib are stored with CRLF, and no framing of a
lone dot other than <CRLF>.<CRLF> splits one transaction into two messages (SMTP smuggling)."""

from __future__ import annotations

import base64
import os
import smtplib
import socket
from typing import IO

import pytest
from fastapi.testclient import TestClient

from postroom.runtime import Runtime
from tests.integration.test_smtp_limits import SENDER, new_inbox, options, raw_of, stored, with_smtp
from tests.support.trust import split_verdict
from tests.unit.test_smtp_data import SMUGGLING


def bare_lf_message(inbox_id: str, lines: int) -> bytes:
    headers = f"From: {SENDER}\nTo: {inbox_id}\nSubject: bare LF\nMessage-ID: <bare-lf@example.org>\n\n".encode()
    body = b"".join(b"line %05d " % n + b"x" * 60 + b"\n" for n in range(lines))
    return headers + b".leading dot\n" + body


def test_a_70_kb_bare_lf_message_from_smtplib_is_stored_with_crlf(runtime: Runtime, client: TestClient) -> None:
    inbox_id = new_inbox(client)
    sent = bare_lf_message(inbox_id, 1000)
    assert len(sent) > 70_000
    assert b"\r" not in sent

    def talk(port: int) -> dict[str, tuple[int, bytes]]:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            return smtp.sendmail(SENDER, [inbox_id], sent)  # bytes go out as they are: bare LF, dots stuffed

    assert with_smtp(runtime, options(max_message_bytes=1024 * 1024), talk) == {}
    [kept] = stored(client, inbox_id)
    assert kept["subject"] == "bare LF"
    # smtplib ends DATA with CRLF . CRLF after the message's own last LF: one empty line more, as any MTA stores it
    below_verdict = split_verdict(raw_of(client, inbox_id, kept["message_id"]))[1]
    assert below_verdict == sent.replace(b"\n", b"\r\n") + b"\r\n"


def test_a_message_with_a_big_base64_attachment_is_stored_whole(runtime: Runtime, client: TestClient) -> None:
    """Its base64 lines are decoded a block at a time (mime.runs) and the raw blob is trace + the sender's bytes."""
    inbox_id = new_inbox(client)
    payload = os.urandom(600_000)
    sent = (
        (
            f"From: {SENDER}\r\nTo: {inbox_id}\r\nSubject: big file\r\nMessage-ID: <big@example.org>\r\n"
            'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
            "Content-Type: text/plain\r\n\r\nSee the file.\r\n--b\r\nContent-Type: application/octet-stream\r\n"
            'Content-Disposition: attachment; filename="big.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        ).encode()
        + base64.encodebytes(payload).replace(b"\n", b"\r\n")
        + b"--b--\r\n"
    )

    def talk(port: int) -> dict[str, tuple[int, bytes]]:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            return smtp.sendmail(SENDER, [inbox_id], sent)

    assert with_smtp(runtime, options(max_message_bytes=2 * 1024 * 1024), talk) == {}
    [listed] = stored(client, inbox_id)
    kept = client.get(f"/v0/inboxes/{inbox_id}/messages/{listed['message_id']}").json()
    assert (kept["subject"], kept["text"]) == ("big file", "See the file.")
    [attachment] = kept["attachments"]
    assert (attachment["filename"], attachment["size"]) == ("big.bin", len(payload))
    url = f"/v0/inboxes/{inbox_id}/messages/{kept['message_id']}/attachments/{attachment['attachment_id']}"
    assert client.get(client.get(url).json()["download_url"]).content == payload
    trace, below = split_verdict(raw_of(client, inbox_id, kept["message_id"]))
    assert trace.startswith(b"Return-Path: ")
    assert below == sent
    assert kept["size"] == len(trace + below)


def _replies(stream: IO[bytes], count: int) -> list[bytes]:
    """The last line of each of the next ``count`` replies."""
    replies = []
    for _ in range(count):
        while (line := stream.readline())[3:4] == b"-":
            pass
        replies.append(line)
    return replies


@pytest.mark.parametrize("separator", SMUGGLING.values(), ids=SMUGGLING.keys())
def test_a_smuggled_second_message_stays_inside_the_first(
    runtime: Runtime, client: TestClient, separator: bytes
) -> None:
    inbox_id = new_inbox(client)
    first = f"From: {SENDER}\r\nTo: {inbox_id}\r\nSubject: first\r\nMessage-ID: <first@example.org>\r\n\r\nhello"
    smuggled = (
        f"MAIL FROM:<ceo@example.org>\r\nRCPT TO:<{inbox_id}>\r\nDATA\r\n"
        "From: ceo@example.org\r\nSubject: smuggled\r\nMessage-ID: <smuggled@example.org>\r\n\r\nwire money\r\n"
    )
    session = (
        f"EHLO client.test\r\nMAIL FROM:<{SENDER}>\r\nRCPT TO:<{inbox_id}>\r\nDATA\r\n".encode()
        + first.encode()
        + separator
        + smuggled.encode()
        + b"\r\n.\r\nQUIT\r\n"
    )

    def talk(port: int) -> tuple[list[bytes], bytes]:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            stream = sock.makefile("rb")
            sock.sendall(session)  # pipelined in one go, as an attacker would
            replies = _replies(stream, 7)  # banner, EHLO, MAIL, RCPT, 354, end of DATA, QUIT
            return replies, stream.read()

    replies, rest = with_smtp(runtime, options(), talk)
    assert [reply[:3] for reply in replies] == [b"220", b"250", b"250", b"250", b"354", b"250", b"221"], replies
    assert rest == b""  # no reply to any smuggled command
    [kept] = stored(client, inbox_id)
    assert kept["message_id"] == "<first@example.org>"
    raw = raw_of(client, inbox_id, kept["message_id"])
    assert b"MAIL FROM:<ceo@example.org>" in raw
    assert b"wire money" in raw
