"""Requests the HTTP parser refuses before the application sees them, against a real ``postroom serve``.

llhttp (httptools, through uvicorn) rejects these on the wire, and Postroom's protocol class adds the two h11 also
refuses (no Host, a byte outside ASCII in the target); each is answered with a 400 ErrorResponse JSON and the connection
is closed (docs/architecture.md, "Malformed HTTP").
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from tests.support.server import ServerProcess, running_server

REFUSED_BY_THE_PARSER = {
    "nul in a header": b"GET /v0/inboxes HTTP/1.1\r\nHost: x\r\nX-Probe: a\x00b\r\n\r\n",
    "two content-lengths": b"POST /v0/inboxes HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
    "garbage request line": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
    "space in a header name": b"GET /v0/inboxes HTTP/1.1\r\nHost: x\r\nX Probe: 1\r\n\r\n",
    "no host in HTTP/1.1": b"GET /v0/inboxes HTTP/1.1\r\n\r\n",
    "0xff in the path": b"GET /v0/\xff HTTP/1.1\r\nHost: x\r\n\r\n",
    "0xff in an inbox id": b"GET /v0/inboxes/\xff@postroom.localhost HTTP/1.1\r\nHost: x\r\n\r\n",
    "content-length with transfer-encoding": (
        b"POST /v0/inboxes HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    ),
}


def exchange(server: ServerProcess, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        connection.sendall(raw)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
            head, _, body = received.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            headers = dict(line.lower().split(": ", 1) for line in lines[1:] if ": " in line)
            if "content-length" in headers and len(body) >= int(headers["content-length"]):
                return int(lines[0].split()[1]), headers, body
    raise AssertionError(f"incomplete answer: {received!r}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> object:
    with running_server("sqlite", Path(tmp_path_factory.mktemp("malformed"))) as process:
        yield process


@pytest.mark.parametrize("name", sorted(REFUSED_BY_THE_PARSER))
def test_the_parser_refusals_answer_the_error_response(server: ServerProcess, name: str) -> None:
    status, headers, body = exchange(server, REFUSED_BY_THE_PARSER[name])
    assert status == 400
    assert headers["content-type"] == "application/json"
    assert headers["connection"] == "close"
    error = json.loads(body)
    assert error["name"] == "ValidationError"
    assert error["code"] == "validation_error"
    assert error["message"].startswith("Malformed HTTP request")
    assert error["errors"][0]["path"] == ""


def test_the_connection_still_serves_well_formed_requests(server: ServerProcess) -> None:
    """The two refusals added on top of llhttp leave ordinary requests alone: HTTP/1.0 without Host is fine."""
    status, _, body = exchange(server, b"GET /healthz HTTP/1.0\r\n\r\n")
    assert status == 200, body
    status, _, body = exchange(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status == 200, body
