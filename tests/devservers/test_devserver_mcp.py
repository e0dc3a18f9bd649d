"""The support-tools MCP server over real stdio, with a real mcp ClientSession."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from mcp import StdioServerParameters
from mcp.client.session import ClientSession
from mcp.client.stdio import stdio_client

from routewatch.collector.devservers import mcp_server
from routewatch.collector.devservers.mcp_server import TOOLS, McpSettings, answer

SERVER = [sys.executable, "-m", "routewatch.collector.devservers.mcp_server"]


@asynccontextmanager
async def session(env: dict[str, str] | None = None) -> AsyncIterator[ClientSession]:
    params = StdioServerParameters(command=SERVER[0], args=SERVER[1:], env=env)
    async with stdio_client(params) as streams, ClientSession(*streams) as client:
        await client.initialize()
        yield client


async def test_lists_the_support_tools_and_answers_deterministically() -> None:
    async with session() as client:
        listed = await client.list_tools()
        assert sorted(t.name for t in listed.tools) == sorted(TOOLS)
        arguments = {"operation": "infrastructure", "context": {"service": "checkout"}}
        first = await client.call_tool("infrastructure_audit", arguments)
        again = await client.call_tool("infrastructure_audit", arguments)
        other = await client.call_tool("security_audit", arguments)
    assert not first.is_error
    text = first.content[0].text  # type: ignore[union-attr]
    assert text == answer("infrastructure_audit", arguments)
    assert text.startswith("infrastructure audit (")
    assert again.content[0].text == text  # type: ignore[union-attr]
    assert other.content[0].text != text  # type: ignore[union-attr]


async def test_error_mode_returns_error_results_for_the_named_tools() -> None:
    env = {mcp_server.ENV_ERROR: "security_audit,cost_analysis"}
    async with session(env) as client:
        failed = await client.call_tool("security_audit", {"context": {}})
        fine = await client.call_tool("meta_monitoring", {"context": {}})
    assert failed.is_error
    assert "backend unavailable" in failed.content[0].text  # type: ignore[union-attr]
    assert not fine.is_error


async def test_error_rate_is_seeded_and_latency_applies() -> None:
    env = {
        mcp_server.ENV_ERROR: "all",
        mcp_server.ENV_ERROR_RATE: "0.5",
        mcp_server.ENV_SEED: "4",
        mcp_server.ENV_LATENCY: "fixed:0.001",
    }

    async def outcomes() -> list[bool]:
        async with session(env) as client:
            return [
                (await client.call_tool("support_answer", {"context": {"n": i}})).is_error
                for i in range(12)
            ]

    first = await outcomes()
    assert 0 < sum(first) < 12
    assert await outcomes() == first


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({mcp_server.ENV_LATENCY: "soon"}, "ROUTEWATCH_MCP_LATENCY: latency: 'soon'"),
        ({mcp_server.ENV_ERROR: "teleport"}, "ROUTEWATCH_MCP_ERROR: unknown tool(s) teleport"),
        ({mcp_server.ENV_ERROR_RATE: "lots"}, "ROUTEWATCH_MCP_ERROR_RATE: not a number"),
        ({mcp_server.ENV_ERROR_RATE: "1.5"}, "ROUTEWATCH_MCP_ERROR_RATE: must be within [0, 1]"),
        ({mcp_server.ENV_SEED: "x"}, "ROUTEWATCH_MCP_SEED: not an integer"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError) as info:
        McpSettings.from_env(env)
    assert message in str(info.value)


def test_bad_environment_exits_2_with_the_message() -> None:
    result = subprocess.run(
        SERVER,
        env={mcp_server.ENV_ERROR: "teleport", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "ROUTEWATCH_MCP_ERROR: unknown tool(s) teleport" in result.stderr
