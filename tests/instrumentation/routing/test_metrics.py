"""Routing metrics: names, units, buckets, attributes, and bounded values."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import pytest
from instrumentation.routing.otel_harness import Harness, Throttled, keyed

from routewatch.instrumentation.routing.telemetry import MAX_OPERATIONS
from routewatch.instrumentation.semconv import (
    DURATION_BUCKETS,
    HYBRID_ROUTING_ATTEMPTS,
    HYBRID_ROUTING_CACHE_LOOKUPS,
    HYBRID_ROUTING_CACHE_RESULT,
    HYBRID_ROUTING_FALLBACK_FROM,
    HYBRID_ROUTING_FALLBACK_TO,
    HYBRID_ROUTING_FALLBACKS,
    HYBRID_ROUTING_OPERATION,
    HYBRID_ROUTING_OUTCOME,
    HYBRID_ROUTING_REASON,
    HYBRID_ROUTING_REQUEST_DURATION,
    HYBRID_ROUTING_ROUTE,
)

ROUTER = "routing_sample.router:Router.handle(operation=request.operation_type)"
CACHE = "routing_sample.router:SupportCache.get"

Instrument = Callable[..., Any]
Make = Callable[..., Any]


def test_request_duration_histogram(
    harness: Harness, instrument: Instrument, backend: Make
) -> None:
    instrument(routers=ROUTER)
    app = importlib.import_module("routing_sample.router")
    router = app.Router({"direct": backend("direct"), "mcp": backend("mcp", fail=Throttled)})
    router.handle(app.Request("emergency"))
    router.handle(app.Request("emergency"))
    with pytest.raises(Throttled):
        router.handle(app.Request("standard", plan=("mcp",)))

    metric = harness.metric(HYBRID_ROUTING_REQUEST_DURATION)
    assert metric.unit == "s"
    (point, *_) = metric.data.data_points
    assert tuple(point.explicit_bounds) == DURATION_BUCKETS
    assert harness.counts(HYBRID_ROUTING_REQUEST_DURATION) == {
        keyed(
            {
                HYBRID_ROUTING_OPERATION: "emergency",
                HYBRID_ROUTING_ROUTE: "direct",
                HYBRID_ROUTING_OUTCOME: "success",
            }
        ): 2,
        keyed(
            {
                HYBRID_ROUTING_OPERATION: "standard",
                HYBRID_ROUTING_ROUTE: "mcp",
                HYBRID_ROUTING_OUTCOME: "error",
            }
        ): 1,
    }
    assert all(p.sum >= 0 for p in harness.points(HYBRID_ROUTING_REQUEST_DURATION))


def test_attempts_and_fallbacks_counters(
    harness: Harness, instrument: Instrument, backend: Make
) -> None:
    instrument(routers=ROUTER)
    app = importlib.import_module("routing_sample.router")
    router = app.Router({"direct": backend("direct", fail=Throttled), "mcp": backend("mcp")})
    for _ in range(3):
        router.handle(app.Request("infrastructure", plan=("direct", "mcp")))

    op = {HYBRID_ROUTING_OPERATION: "infrastructure"}
    assert harness.counts(HYBRID_ROUTING_ATTEMPTS) == {
        keyed({**op, HYBRID_ROUTING_ROUTE: "direct", HYBRID_ROUTING_OUTCOME: "error"}): 3,
        keyed({**op, HYBRID_ROUTING_ROUTE: "mcp", HYBRID_ROUTING_OUTCOME: "success"}): 3,
    }
    assert harness.counts(HYBRID_ROUTING_FALLBACKS) == {
        keyed(
            {
                **op,
                HYBRID_ROUTING_FALLBACK_FROM: "direct",
                HYBRID_ROUTING_FALLBACK_TO: "mcp",
                HYBRID_ROUTING_REASON: "Throttled",
            }
        ): 3
    }


def test_cache_lookups_counter_inside_and_outside_routes(
    harness: Harness, instrument: Instrument, backend: Make
) -> None:
    instrument(routers=ROUTER, caches=CACHE)
    app = importlib.import_module("routing_sample.router")
    cache = app.SupportCache()
    cache.entries["costAnalysis"] = {"answer": 1}
    router = app.Router({"direct": backend("direct")}, cache)
    router.handle(app.Request("costAnalysis"))
    router.handle(app.Request("costAnalysis"))
    router.handle(app.Request("securityAudit"))
    assert cache.get("costAnalysis") == {"answer": 1}  # outside any route

    assert harness.counts(HYBRID_ROUTING_CACHE_LOOKUPS) == {
        keyed({HYBRID_ROUTING_CACHE_RESULT: "hit", HYBRID_ROUTING_OPERATION: "costAnalysis"}): 2,
        keyed({HYBRID_ROUTING_CACHE_RESULT: "miss", HYBRID_ROUTING_OPERATION: "securityAudit"}): 1,
        keyed({HYBRID_ROUTING_CACHE_RESULT: "hit"}): 1,
    }
    assert (
        harness.counts(HYBRID_ROUTING_REQUEST_DURATION)[
            keyed(
                {
                    HYBRID_ROUTING_OPERATION: "costAnalysis",
                    HYBRID_ROUTING_ROUTE: "cache",
                    HYBRID_ROUTING_OUTCOME: "success",
                }
            )
        ]
        == 2
    )


def test_operation_names_are_capped(
    harness: Harness, instrument: Instrument, backend: Make
) -> None:
    instrument(routers=ROUTER)
    app = importlib.import_module("routing_sample.router")
    router = app.Router({"direct": backend("direct")})
    for index in range(MAX_OPERATIONS + 10):
        router.handle(app.Request(f"user-{index}"))
    router.handle(app.Request("user-0"))

    operations = {
        dict(key)[HYBRID_ROUTING_OPERATION]: count
        for key, count in harness.counts(HYBRID_ROUTING_REQUEST_DURATION).items()
    }
    assert len(operations) == MAX_OPERATIONS + 1
    assert operations["_OTHER"] == 10
    assert operations["user-0"] == 2
    assert len([s for s in harness.spans() if s.name == "route _OTHER"]) == 10


def test_unknown_route_path_is_other(
    harness: Harness, instrument: Instrument, backend: Make
) -> None:
    instrument(routers=ROUTER)
    app = importlib.import_module("routing_sample.router")
    app.Router({"direct": backend("carrier-pigeon")}).handle(app.Request("emergency"))

    assert harness.span("attempt other").attributes[HYBRID_ROUTING_ROUTE] == "other"
    (key,) = harness.counts(HYBRID_ROUTING_ATTEMPTS)
    assert dict(key)[HYBRID_ROUTING_ROUTE] == "other"
