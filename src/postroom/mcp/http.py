"""``/mcp`` on the API port: the MCP streamable HTTP transport behind an API-key gate.

The key comes as ``Authorization: Bearer pr_...`` or ``x-api-key: pr_...``; a missing or unknown key is refused
with 401 before any MCP message is read. The transport runs stateless (a fresh server per request), so a key is
checked on every request, nothing is bound to a process, and any API node can answer.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from postroom.errors import Unauthorized
from postroom.loopback import Authenticate
from postroom.mcp.loopback_backend import Caller, LoopbackBackend, current_caller
from postroom.mcp.server import build_server
from postroom.services.ports import EventStream

PATH = "/mcp"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def authorization_of(headers: Headers) -> str | None:
    authorization = headers.get("authorization")
    api_key = headers.get("x-api-key")
    if not authorization and api_key:
        return f"Bearer {api_key.strip()}"
    return authorization


class McpEndpoint:
    def __init__(self, server: MCPServer, authenticate: Authenticate, security: TransportSecuritySettings) -> None:
        self._server = server
        self._authenticate = authenticate
        self._transport = server.streamable_http_app(
            streamable_http_path=PATH, stateless_http=True, transport_security=security
        )

    def running(self) -> Any:
        """The transport's task group; entered for as long as the app runs (its lifespan)."""
        return self._server.session_manager.run()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        authorization = authorization_of(request.headers)
        try:
            principal = await anyio.to_thread.run_sync(self._authenticate, authorization)
        except Unauthorized as error:
            await _refuse(send, error)
            return
        assert authorization is not None  # authenticate refuses a missing header
        api_key = authorization.partition(" ")[2].strip()
        caller = Caller(api_key, principal, str(request.base_url).rstrip("/"))
        token = current_caller.set(caller)
        try:
            await self._transport(scope, receive, send)
        finally:
            current_caller.reset(token)


async def _refuse(send: Send, error: Unauthorized) -> None:
    body: dict[str, object] = {"name": "UnauthorizedError", "code": error.code, "message": error.message}
    if error.fix:
        body["fix"] = error.fix
    data = json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(data)).encode()),
        (b"www-authenticate", b'Bearer realm="postroom"'),
    ]
    await send({"type": "http.response.start", "status": 401, "headers": headers})
    await send({"type": "http.response.body", "body": data})


def transport_security(api_host: str) -> TransportSecuritySettings:
    """On a loopback listener, refuse foreign Host and Origin headers (DNS rebinding), as the SDK does by default."""
    if api_host not in LOOPBACK_HOSTS:
        return TransportSecuritySettings(enable_dns_rebinding_protection=False)
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=["127.0.0.1:*", "localhost:*", "[::1]:*", "127.0.0.1", "localhost"],
        allowed_origins=["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"],
    )


def mount_mcp(app: Starlette, *, authenticate: Authenticate, events: EventStream, api_host: str) -> None:
    """Serve the MCP tools at ``/mcp`` on ``app``, calling ``app``'s own REST routes in-process."""
    endpoint = McpEndpoint(build_server(LoopbackBackend(app, events)), authenticate, transport_security(api_host))
    app.router.routes.append(Route(PATH, endpoint=endpoint))
    previous = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(instance: Any) -> AsyncIterator[Any]:
        async with endpoint.running(), previous(instance) as state:
            yield state

    app.router.lifespan_context = lifespan
