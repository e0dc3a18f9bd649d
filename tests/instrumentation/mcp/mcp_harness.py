"""A client session with the support-tools MCP server, spawned over stdio.

Imported as `instrumentation.mcp.mcp_harness` (tests/ is on pythonpath).
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

SERVER = Path(__file__).with_name("support_tools_server.py")


@asynccontextmanager
async def support_tools(errlog: Any) -> AsyncIterator[ClientSession]:
    """Spawn the server, initialise a session, yield it; the server's stderr goes to errlog."""
    params = StdioServerParameters(
        command=sys.executable, args=[str(SERVER)], env={"PATH": os.environ.get("PATH", "")}
    )
    async with (
        stdio_client(params, errlog=errlog) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session
