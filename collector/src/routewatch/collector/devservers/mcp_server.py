"""The support tools of the original system as an MCP server over stdio (`mcp` package).

Run: `python -m routewatch.collector.devservers.mcp_server` (a client spawns it through
`mcp.client.stdio.stdio_client`). Answers are deterministic: the same tool and arguments give
the same text. Behaviour comes from the environment, so a client configures it when spawning:

- `ROUTEWATCH_MCP_LATENCY`: latency spec per tool call (`fixed:0.05`, `uniform:0.01:0.2`,
  `lognormal:0.1:0.5`); default none.
- `ROUTEWATCH_MCP_ERROR`: tools that answer with an error result (`isError`): `all` or
  comma-separated tool names; default none.
- `ROUTEWATCH_MCP_ERROR_RATE`: share of calls to those tools that fail (seeded); default 1.
- `ROUTEWATCH_MCP_SEED`: seed for the latency and error draws.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import random
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from routewatch.collector.devservers.latency import Latency

ENV_LATENCY = "ROUTEWATCH_MCP_LATENCY"
ENV_ERROR = "ROUTEWATCH_MCP_ERROR"
ENV_ERROR_RATE = "ROUTEWATCH_MCP_ERROR_RATE"
ENV_SEED = "ROUTEWATCH_MCP_SEED"

# Tool name -> what it reports on (the original system's support operations).
TOOLS: dict[str, str] = {
    "infrastructure_audit": "infrastructure audit",
    "meta_monitoring": "monitoring of the monitoring",
    "implementation_gaps": "implementation gap analysis",
    "compliance_validation": "compliance validation",
    "security_audit": "security audit",
    "cost_analysis": "cost analysis",
    "support_answer": "support answer",
}

_FINDINGS = (
    "all checks passed",
    "one alarm has no runbook",
    "two routes lack a fallback health probe",
    "the cache hit rate is below target",
    "a budget threshold is not wired to an action",
)


@dataclass
class McpSettings:
    latency: Latency = field(default_factory=Latency)
    error_tools: frozenset[str] = frozenset()
    error_rate: float = 1.0
    seed: int | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> McpSettings:
        """Read the ROUTEWATCH_MCP_* variables; ValueError naming the variable when invalid."""
        try:
            seed = int(environ[ENV_SEED]) if environ.get(ENV_SEED) else None
        except ValueError:
            raise ValueError(f"{ENV_SEED}: not an integer: {environ[ENV_SEED]!r}") from None
        try:
            latency = Latency.parse(environ.get(ENV_LATENCY) or "fixed:0", seed=seed)
        except ValueError as err:
            raise ValueError(f"{ENV_LATENCY}: {err}") from None
        raw = (environ.get(ENV_ERROR) or "").strip()
        tools = (
            frozenset(TOOLS)
            if raw == "all"
            else frozenset(t.strip() for t in raw.split(",") if t.strip())
        )
        unknown = sorted(tools - TOOLS.keys())
        if unknown:
            known = ", ".join(["all", *TOOLS])
            raise ValueError(f"{ENV_ERROR}: unknown tool(s) {', '.join(unknown)} (known: {known})")
        try:
            rate = float(environ.get(ENV_ERROR_RATE) or 1.0)
        except ValueError:
            raise ValueError(
                f"{ENV_ERROR_RATE}: not a number: {environ[ENV_ERROR_RATE]!r}"
            ) from None
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"{ENV_ERROR_RATE}: must be within [0, 1], got {rate}")
        return cls(latency=latency, error_tools=tools, error_rate=rate, seed=seed)


def answer(tool: str, arguments: Mapping[str, Any]) -> str:
    """The deterministic answer of `tool` for `arguments` (canonical JSON, sha256)."""
    canonical = json.dumps(arguments, sort_keys=True, separators=(",", ":"), default=str)
    digest = hashlib.sha256(f"{tool}:{canonical}".encode()).hexdigest()
    finding = _FINDINGS[int(digest[:8], 16) % len(_FINDINGS)]
    return f"{TOOLS[tool]} ({digest[:12]}): {finding}."


def create_server(settings: McpSettings) -> MCPServer:
    # WARNING: the SDK logs every failed tool call at INFO on stderr, which the client shares.
    server: MCPServer = MCPServer("routewatch-support-tools", log_level="WARNING")
    rng = random.Random(settings.seed)

    async def run(tool: str, arguments: dict[str, Any]) -> str:
        delay = settings.latency.sample()
        if delay:
            await asyncio.sleep(delay)
        if tool in settings.error_tools and rng.random() < settings.error_rate:
            raise ToolError(f"{tool}: backend unavailable (injected by {ENV_ERROR})")
        return answer(tool, arguments)

    def register(tool: str) -> None:
        async def call(operation: str = "", context: dict[str, Any] | None = None) -> str:
            return await run(tool, {"operation": operation, "context": context or {}})

        server.add_tool(call, name=tool, description=f"Support tool: {TOOLS[tool]}.")

    for tool in TOOLS:
        register(tool)
    return server


def main() -> int:
    try:
        settings = McpSettings.from_env(os.environ)
    except ValueError as err:
        print(f"mcp devserver: {err}", file=sys.stderr)
        return 2
    create_server(settings).run("stdio")
    return 0


if __name__ == "__main__":
    sys.exit(main())
