"""The tracer, instruments and value bounds the routing layer records with.

One instance serves the environment-declared routers, the explicit API and the attempts that
backend extensions open. `RoutingPatcher` configures it with the providers it is given; code
that uses the explicit API without the instrumentor gets the global providers.
"""

from __future__ import annotations

import threading
from typing import Final

from opentelemetry.metrics import MeterProvider, get_meter
from opentelemetry.trace import Tracer, TracerProvider, get_tracer

from routewatch.instrumentation.attribute_sets import AttributeSets
from routewatch.instrumentation.routing.bounded import BoundedValues
from routewatch.instrumentation.semconv import (
    DURATION_BUCKETS,
    HYBRID_ROUTING_ATTEMPTS,
    HYBRID_ROUTING_CACHE_LOOKUPS,
    HYBRID_ROUTING_FALLBACKS,
    HYBRID_ROUTING_REQUEST_DURATION,
)
from routewatch.instrumentation.version import __version__

_SCOPE: Final = "routewatch.instrumentation.routing"
# Distinct operation names / error types admitted to metrics before the rest become `_OTHER`.
MAX_OPERATIONS: Final = 64
MAX_ERROR_TYPES: Final = 32


class RoutingTelemetry:
    def __init__(
        self,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
    ) -> None:
        self.tracer: Tracer = get_tracer(_SCOPE, __version__, tracer_provider)
        meter = get_meter(_SCOPE, __version__, meter_provider)
        self.request_duration = meter.create_histogram(
            HYBRID_ROUTING_REQUEST_DURATION,
            unit="s",
            description="Duration of one routed request, end to end",
            explicit_bucket_boundaries_advisory=list(DURATION_BUCKETS),
        )
        self.attempts = meter.create_counter(
            HYBRID_ROUTING_ATTEMPTS, unit="{attempt}", description="Attempts on a route path"
        )
        self.fallbacks = meter.create_counter(
            HYBRID_ROUTING_FALLBACKS,
            unit="{fallback}",
            description="Switches from a failed path to another attempt",
        )
        self.cache_lookups = meter.create_counter(
            HYBRID_ROUTING_CACHE_LOOKUPS, unit="{lookup}", description="Response cache lookups"
        )
        self.operations = BoundedValues(MAX_OPERATIONS)
        self.error_types = BoundedValues(MAX_ERROR_TYPES)
        self.attribute_sets = AttributeSets()


_current: RoutingTelemetry | None = None
_lock = threading.Lock()


def routing_telemetry() -> RoutingTelemetry:
    """The configured telemetry, or one on the global providers."""
    global _current
    current = _current
    if current is None:
        with _lock:
            if _current is None:
                _current = RoutingTelemetry()
            current = _current
    return current


def configure(
    tracer_provider: TracerProvider | None, meter_provider: MeterProvider | None
) -> RoutingTelemetry:
    global _current
    with _lock:
        _current = RoutingTelemetry(tracer_provider, meter_provider)
        return _current


def reset() -> None:
    global _current
    with _lock:
        _current = None
