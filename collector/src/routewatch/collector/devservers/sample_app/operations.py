"""The routing table of the original support router, one row per operation type.

Numbers from the original system (../shared/reference/original-system.md): priority,
primary -> fallback path, latency target, the direct client's timeout and its maxTokens and
temperature, and the support tool each operation asks for by default.
"""

from __future__ import annotations

from dataclasses import dataclass

DIRECT = "direct"
MCP = "mcp"


@dataclass(frozen=True)
class Operation:
    name: str
    priority: str  # critical | high | medium
    primary: str
    fallback: str | None
    latency_target: float  # seconds
    timeout: float  # seconds, per attempt on either path
    max_tokens: int
    temperature: float
    default_task: str

    def paths(self) -> tuple[str, ...]:
        return (self.primary,) if self.fallback is None else (self.primary, self.fallback)


# name, priority, primary, fallback, latency target, timeout, maxTokens, temperature, task
_ROWS = (
    Operation("emergency", "critical", DIRECT, None, 5, 5, 1024, 0.1, "support_answer"),
    Operation("infrastructure", "critical", DIRECT, MCP, 10, 10, 2048, 0.2, "infrastructure_audit"),
    Operation("meta_monitor", "high", DIRECT, MCP, 15, 10, 2048, 0.3, "meta_monitoring"),
    Operation("implementation", "high", DIRECT, MCP, 15, 10, 4096, 0.4, "implementation_gaps"),
    Operation("standard", "medium", MCP, DIRECT, 30, 30, 4096, 0.7, "support_answer"),
)  # fmt: skip
OPERATIONS: dict[str, Operation] = {op.name: op for op in _ROWS}


def operation(name: str) -> Operation:
    """The row for `name`; ValueError listing the known operations otherwise."""
    try:
        return OPERATIONS[name]
    except KeyError:
        raise ValueError(
            f"unknown operation type {name!r} (known: {', '.join(OPERATIONS)})"
        ) from None
