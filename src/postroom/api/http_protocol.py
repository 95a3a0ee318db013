"""uvicorn's HTTP/1.1 protocol (h11), answering requests it cannot parse with the ErrorResponse JSON, not text.

h11 refuses malformed requests (a NUL or other control character in a header, a request line it cannot parse,
Content-Length together with Transfer-Encoding, ...) before any ASGI application sees them; uvicorn then writes
its own plain-text 400 and closes the connection. This class only changes that body.
"""

from __future__ import annotations

import json

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from postroom.api.errors import error_body


def malformed_request_body(reason: str) -> bytes:
    body = error_body("ValidationError", "validation_error", f"Malformed HTTP request: {reason}")
    body["errors"] = [{"path": "", "message": reason}]
    return json.dumps(body).encode()


class JsonErrorH11Protocol(H11Protocol):
    def send_400_response(self, msg: str) -> None:
        content = malformed_request_body(msg)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(content)).encode("ascii")),
            (b"connection", b"close"),
        ]
        self.transport.write(self.conn.send(h11.Response(status_code=400, headers=headers, reason=b"Bad Request")))
        self.transport.write(self.conn.send(h11.Data(data=content)) or b"")
        self.transport.write(self.conn.send(h11.EndOfMessage()) or b"")
        self.transport.close()
