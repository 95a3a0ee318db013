"""``/mcp`` on the API port: the MCP streamable HTTP transport behind an API-key gate.

The key comes as ``Authorization: Bearer pr_...`` or ``x-api-key: pr_...``; a missing or unknown key is refused
with 401 before any MCP message is read (429 once the client address has used up its failed authentications).
The transport runs stateless (a fresh server per request), so a key is checked on every request, nothing is bound
to a process, and any API node can answer.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.requests import HTTPConnection, Request
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from postroom.domain.access import Principal
from postroom.errors import RateLimited, Unauthorized
from postroom.mcp.loopback_backend import Caller, LoopbackBackend, current_caller
from postroom.mcp.server import build_server
from postroom.services.ports import EventStream

PATH = "/mcp"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")

# Who a request's ``Authorization`` value names, given the connection it came on (its client address is where
# failed authentications are counted); raises ``Unauthorized``, or ``RateLimited`` for an address out of failures.
Authenticate = Callable[[HTTPConnection, str | None], Principal]


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
            principal = await anyio.to_thread.run_sync(self._authenticate, request, authorization)
        except (Unauthorized, RateLimited) as error:
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


async def _refuse(send: Send, error: Unauthorized | RateLimited) -> None:
    limited = isinstance(error, RateLimited)
    name = "RateLimitExceededError" if limited else "UnauthorizedError"
    body: dict[str, object] = {"name": name, "code": error.code, "message": error.message}
    if error.fix:
        body["fix"] = error.fix
    data = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    if isinstance(error, RateLimited):
        headers.append((b"retry-after", str(error.retry_after).encode()))
    else:
        headers.append((b"www-authenticate", b'Bearer realm="postroom"'))
    await send({"type": "http.response.start", "status": 429 if limited else 401, "headers": headers})
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
