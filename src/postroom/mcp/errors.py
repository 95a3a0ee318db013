"""API and connection failures as MCP tool errors: the API's message, its code and its suggested ``fix``."""

from __future__ import annotations

import httpx
from agentmail.core.api_error import ApiError
from mcp.server.mcpserver.exceptions import ToolError


def tool_error(error: Exception) -> ToolError:
    if isinstance(error, ApiError):
        body: object = error.body
        dump = getattr(body, "model_dump", None)
        if callable(dump):  # typed SDK errors carry a parsed ErrorResponse model
            body = dump(mode="json", exclude_none=True)
        status = f"HTTP {error.status_code}" if error.status_code else "API error"
        if isinstance(body, dict):
            code = body.get("code") or body.get("name") or "error"
            message = str(body.get("message") or "request failed")
            fix = body.get("fix")
            return ToolError(f"{message} ({status}, {code})" + (f". Fix: {fix}" if fix else ""))
        return ToolError(f"{status}: {str(body)[:300]}")
    if isinstance(error, httpx.HTTPError):
        return ToolError(f"cannot reach the Postroom API: {error or type(error).__name__}")
    return ToolError(str(error))
