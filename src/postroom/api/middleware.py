"""ASGI middleware: raw-path routing, the request body limit, one structured log line and the metrics per request."""

from __future__ import annotations

import json
import logging
import time

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from postroom.api.errors import error_body
from postroom.api.rawpath import canonical_path
from postroom.observability.collectors import HTTP_LATENCY, HTTP_REQUESTS, RATE_LIMIT_REFUSALS

access_log = logging.getLogger("postroom.access")


class RequestMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int, log_requests: bool) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.log_requests = log_requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in {"http", "websocket"}:
            await self.app(scope, receive, send)
            return
        raw_path = scope.get("raw_path") or scope["path"].encode()
        scope = dict(scope, path=canonical_path(raw_path))
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 0}

        async def send_logged(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            declared = dict(scope["headers"]).get(b"content-length")
            if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
                await self._too_large(send_logged)
            else:
                await self.app(scope, self._limited(receive), send_logged)
        finally:
            if self.log_requests:
                self._log(scope, status["code"], started)
            self._count(scope, status["code"], started)

    def _limited(self, receive: Receive) -> Receive:
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body_bytes:
                    # FastAPI re-raises HTTPException from body parsing; the error table renders it as JSON.
                    raise HTTPException(413, f"Request body exceeds {self.max_body_bytes} bytes")
            return message

        return limited_receive

    async def _too_large(self, send: Send) -> None:
        body = json.dumps(
            error_body(
                "PayloadTooLargeError",
                "payload_too_large",
                f"Request body exceeds {self.max_body_bytes} bytes",
            )
        ).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    def _count(scope: Scope, status: int, started: float) -> None:
        # The route's template, never the path itself: ids in paths would make a series per resource.
        route = getattr(scope.get("route"), "path", None) or "unmatched"
        method = str(scope.get("method"))
        HTTP_REQUESTS.labels(method, route, str(status)).inc()
        HTTP_LATENCY.labels(method, route).observe(time.perf_counter() - started)
        if status == 429:
            RATE_LIMIT_REFUSALS.inc()

    @staticmethod
    def _log(scope: Scope, status: int, started: float) -> None:
        state = scope.get("state") or {}
        record = {
            "event": "http_request",
            "method": scope.get("method"),
            "path": scope.get("path"),
            "status": status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            "api_key_id": state.get("api_key_id"),
            "client": (scope.get("client") or ("", 0))[0],
        }
        access_log.info(json.dumps(record))
