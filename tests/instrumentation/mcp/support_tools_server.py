"""A real MCP server over stdio for the client tests: tools that succeed, fail and crash.

Run as `python support_tools_server.py`; the client spawns it with mcp's stdio_client.
"""

from __future__ import annotations

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.shared.exceptions import MCPError

server = MCPServer("support-tools")


@server.tool()
def lookup_runbook(alert: str) -> str:
    return f"runbook for {alert}"


@server.tool()
def reject(reason: str) -> str:
    raise ToolError(reason)  # an error result: is_error=True


@server.tool()
def crash() -> str:
    raise RuntimeError("the tool crashed")  # also an error result, logged by the server


@server.tool()
def invalid_params() -> str:
    raise MCPError(code=-32602, message="invalid params")  # a JSON-RPC error response


@server.tool()
def received_traceparent(ctx: Context) -> str:
    """Echo the W3C traceparent this request carried in params._meta."""
    meta = ctx.request_context.meta or {}
    return str(meta.get("traceparent", ""))


if __name__ == "__main__":
    server.run("stdio")
