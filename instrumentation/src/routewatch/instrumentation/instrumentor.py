"""The entry point that `opentelemetry-instrument` loads (placeholder until it lands)."""

from collections.abc import Collection
from typing import Any

from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]

from routewatch.instrumentation.package import _instruments


class RoutewatchInstrumentor(BaseInstrumentor):
    """Instruments routers, caches, Bedrock Runtime and MCP tool calls."""

    def instrumentation_dependencies(self) -> Collection[str]:
        return _instruments

    def _instrument(self, **kwargs: Any) -> None:
        pass

    def _uninstrument(self, **kwargs: Any) -> None:
        pass
