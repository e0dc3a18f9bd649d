"""The contract between backend extensions (Bedrock, MCP, agent) and the routing layer.

A backend extension calls `begin_attempt(path)` just before it starts its own span for a
backend call, starts that span as a child of `attempt.context`, and calls `attempt.end(...)`
exactly once when the call is over (for a stream: when the stream ends). Outside a declared
router call there is no route, `begin_attempt` returns None, and the extension goes on alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from opentelemetry import context as otel_context
from opentelemetry.context import Context
from opentelemetry.instrumentation.utils import is_instrumentation_enabled

from routewatch.instrumentation.routing.route import current_route
from routewatch.instrumentation.utils import safe_invoke


class Attempt(Protocol):
    """One attempt on a path inside a routed request."""

    path: str  # direct | mcp | agent
    number: int  # 1 for the first attempt of the route, 2 for the next, ...

    @property
    def context(self) -> Context:
        """Parent context for the backend call's span (the attempt span is current in it)."""
        ...

    @property
    def attributes(self) -> Mapping[str, str]:
        """`hybrid_routing.operation` and `hybrid_routing.route` of the enclosing route, for
        metrics such as `hybrid_routing.cost` that the extension records itself."""
        ...

    def end(self, outcome: str, error_type: str | None = None) -> None:
        """Close the attempt (`outcome` success|error); idempotent; never raises."""
        ...


def _begin(path: str) -> Attempt | None:
    route = current_route()
    if route is None or not is_instrumentation_enabled():
        return None
    return route.begin_attempt(path, otel_context.get_current())


def begin_attempt(path: str) -> Attempt | None:
    """Start an attempt on `path` in the current route, or None outside a route. Never raises."""
    return safe_invoke(_begin, path)
