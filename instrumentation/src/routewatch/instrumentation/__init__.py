"""Zero-code OpenTelemetry instrumentation for hybrid LLM routing."""

from routewatch.instrumentation.instrumentor import RoutewatchInstrumentor

__all__ = ["RoutewatchInstrumentor"]
