"""What goes into the router and what comes out of it."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

# Price the original system used for every direct call (Claude 3.5 Sonnet), USD per 1K tokens.
PRICE_INPUT_PER_1K = 0.003
PRICE_OUTPUT_PER_1K = 0.015


@dataclass(frozen=True)
class SupportRequest:
    operation_type: str
    context: dict[str, Any] = field(default_factory=dict)
    # Support tool asked for (also the cache's TTL class); empty = the operation's default.
    task: str = ""
    # Model for the direct path; empty = the router's default model.
    model_id: str = ""


@dataclass(frozen=True)
class PathResult:
    """One path's answer. `success` False is an unsuccessful response (it falls back too)."""

    success: bool
    text: str = ""
    error: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    model_id: str = ""

    @property
    def cost_usd(self) -> float:
        return (
            self.input_tokens * PRICE_INPUT_PER_1K + self.output_tokens * PRICE_OUTPUT_PER_1K
        ) / 1000


@dataclass(frozen=True)
class AttemptRecord:
    path: str
    outcome: str  # success | error
    error: str | None = None


@dataclass(frozen=True)
class SupportResponse:
    operation_type: str
    route: str  # direct | mcp | cache
    text: str
    reason: str  # why the first path was chosen
    attempts: tuple[AttemptRecord, ...] = ()
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    model_id: str = ""

    @property
    def fell_back(self) -> bool:
        return len(self.attempts) > 1

    def from_cache(self) -> SupportResponse:
        """This response as served again by the cache: no attempts, no new cost."""
        return replace(self, route="cache", attempts=(), cost_usd=0.0, reason="cache_hit")


class RoutingFailed(Exception):
    """Every path the router tried failed; `attempts` says how."""

    def __init__(self, operation_type: str, attempts: tuple[AttemptRecord, ...]) -> None:
        detail = ", ".join(f"{a.path}: {a.error}" for a in attempts)
        super().__init__(f"{operation_type}: all paths failed ({detail})")
        self.operation_type = operation_type
        self.attempts = attempts
