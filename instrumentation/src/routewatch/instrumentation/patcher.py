"""A patcher instruments one library or one kind of user code (Bedrock, MCP, routers, caches).

`RoutewatchInstrumentor` loads each patcher lazily by dotted path; a patcher whose library is
missing says so once in the log and is skipped. Patchers wrap with wrapt and must restore
every callable they patched in `uninstrument`.
"""

from __future__ import annotations

from typing import Any, Protocol

from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import TracerProvider


class Patcher(Protocol):
    def instrument(
        self,
        tracer_provider: TracerProvider | None,
        meter_provider: MeterProvider | None,
        **kwargs: Any,
    ) -> None:
        """Patch; may raise (ImportError when the library is absent): the instrumentor logs it."""
        ...

    def uninstrument(self) -> None:
        """Restore every patched callable."""
        ...


# name -> "module:Class". The name is what OTEL_PYTHON_ROUTEWATCH_DISABLED_PATCHERS lists.
PATCHERS: dict[str, str] = {
    "bedrock": "routewatch.instrumentation.bedrock.patch:BedrockPatcher",
    "mcp": "routewatch.instrumentation.mcp.patch:McpPatcher",
    "routing": "routewatch.instrumentation.routing.patch:RoutingPatcher",
}
