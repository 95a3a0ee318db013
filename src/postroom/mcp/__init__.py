"""The built-in MCP server: email tools for agents over streamable HTTP (``/mcp``) and stdio (``postroom mcp``)."""
