"""uvicorn's HTTP/1.1 protocol (httptools), answering requests it cannot parse with the ErrorResponse JSON, not text.

llhttp (through httptools) refuses malformed requests before any ASGI application sees them; uvicorn then writes its
own plain-text 400 and closes the connection. This class makes that answer JSON with llhttp's reason, and refuses
two shapes llhttp lets through and h11 (uvicorn's other parser) does not: an HTTP/1.1 request without ``Host``
(RFC 9112 §3.2) and a byte outside ASCII in the request target.
"""

from __future__ import annotations

import json
import sys

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from postroom.api.errors import error_body


class MalformedRequest(Exception):
    """Raised from a parser callback; httptools turns it into the HttpParserError that uvicorn answers."""


def malformed_request_body(reason: str) -> bytes:
    body = error_body("ValidationError", "validation_error", f"Malformed HTTP request: {reason}")
    body["errors"] = [{"path": "", "message": reason}]
    return json.dumps(body).encode()


def _reason(fallback: str) -> str:
    """Why the parser refused: uvicorn calls ``send_400_response`` inside its ``except HttpParserError`` block."""
    error = sys.exception()
    if error is None:
        return fallback
    if isinstance(error.__context__, MalformedRequest):
        return str(error.__context__)
    return str(error) or fallback


class JsonErrorHttpToolsProtocol(HttpToolsProtocol):
    def on_url(self, url: bytes) -> None:
        if not url.isascii():
            raise MalformedRequest("the request target holds a byte outside ASCII")
        super().on_url(url)

    def on_headers_complete(self) -> None:
        if self.parser.get_http_version() == "1.1" and not any(name == b"host" for name, _ in self.headers):
            raise MalformedRequest("an HTTP/1.1 request needs a Host header")
        super().on_headers_complete()

    def send_400_response(self, msg: str) -> None:
        content = malformed_request_body(_reason(msg))
        head = [b"HTTP/1.1 400 Bad Request\r\n"]
        head += [name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers]
        head.append(b"content-type: application/json\r\n")
        head.append(b"content-length: " + str(len(content)).encode("ascii") + b"\r\n")
        head.append(b"connection: close\r\n\r\n")
        self.transport.write(b"".join(head) + content)
        self.transport.close()
