"""``postroom mcp``: the same tools over stdio for a local agent, against the server at ``POSTROOM_API_URL``."""

from __future__ import annotations

from postroom.mcp.remote_backend import RemoteBackend
from postroom.mcp.server import build_server


async def serve_stdio(api_url: str, api_key: str) -> None:
    await build_server(RemoteBackend(api_url, api_key)).run_stdio_async()
