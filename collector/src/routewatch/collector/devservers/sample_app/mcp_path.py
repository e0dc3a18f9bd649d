"""The MCP path: a real MCP client session over stdio to the support-tools server."""

from __future__ import annotations

import sys
from contextlib import AsyncExitStack
from typing import Any

from mcp import StdioServerParameters
from mcp.client.session import ClientSession
from mcp.client.stdio import stdio_client

from routewatch.collector.devservers.sample_app.messages import PathResult, SupportRequest
from routewatch.collector.devservers.sample_app.operations import MCP, Operation

SERVER_MODULE = "routewatch.collector.devservers.mcp_server"


class McpPath:
    """Spawns the MCP server (`python -m routewatch.collector.devservers.mcp_server` unless
    `command` says otherwise) and keeps one session open; use as an async context manager."""

    name = MCP

    def __init__(self, command: list[str] | None = None, env: dict[str, str] | None = None) -> None:
        command = command or [sys.executable, "-m", SERVER_MODULE]
        self._params = StdioServerParameters(command=command[0], args=command[1:], env=env)
        self._stack = AsyncExitStack()
        self._session: ClientSession | None = None

    async def __aenter__(self) -> McpPath:
        try:
            streams = await self._stack.enter_async_context(stdio_client(self._params))
            session = await self._stack.enter_async_context(ClientSession(*streams))
            await session.initialize()
        except BaseException:
            await self._stack.aclose()
            raise
        self._session = session
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self._session = None
        await self._stack.aclose()

    async def call(self, op: Operation, request: SupportRequest, task: str) -> PathResult:
        if self._session is None:
            raise RuntimeError("McpPath used outside `async with`")
        result = await self._session.call_tool(
            task,
            {"operation": request.operation_type, "context": request.context},
            read_timeout_seconds=op.timeout,
        )
        text = "".join(getattr(block, "text", "") for block in result.content)
        if result.is_error:
            return PathResult(success=False, text=text, error="tool_error")
        return PathResult(success=True, text=text)
