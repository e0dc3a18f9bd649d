"""Zero-code OpenTelemetry instrumentation for hybrid LLM routing."""

from routewatch.instrumentation.api import (
    begin_attempt,
    cached,
    record_cache_lookup,
    route,
    set_route,
)
from routewatch.instrumentation.instrumentor import RoutewatchInstrumentor

__all__ = [
    "RoutewatchInstrumentor",
    "begin_attempt",
    "cached",
    "record_cache_lookup",
    "route",
    "set_route",
]
