"""The explicit API drives the same machinery as declared routers and caches."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest
from instrumentation.routing.otel_harness import Harness, Throttled, keyed

from routewatch.instrumentation import cached, record_cache_lookup, route, set_route
from routewatch.instrumentation.semconv import (
    HYBRID_ROUTING_CACHE_LOOKUPS,
    HYBRID_ROUTING_CACHE_RESULT,
    HYBRID_ROUTING_FALLBACK_FROM,
    HYBRID_ROUTING_OPERATION,
    HYBRID_ROUTING_OUTCOME,
    HYBRID_ROUTING_REQUEST_DURATION,
    HYBRID_ROUTING_ROUTE,
)

Instrument = Callable[..., Any]
Make = Callable[..., Any]


@pytest.fixture(autouse=True)
def configured(instrument: Instrument) -> None:
    instrument()  # no declarations: only the providers


def test_decorated_function_with_literal_operation(harness: Harness, backend: Make) -> None:
    @route(operation="triage")
    def triage(ticket: str) -> Any:
        return backend("direct")(ticket)

    assert triage("t-1") == "ok"
    assert harness.span("route triage").attributes[HYBRID_ROUTING_ROUTE] == "direct"
    assert triage.__name__ == "triage"


def test_bare_decorator_uses_the_function_name(harness: Harness, backend: Make) -> None:
    @route
    def support(ticket: str) -> Any:
        return backend("mcp")(ticket)

    support("t")
    assert harness.span("route support").attributes[HYBRID_ROUTING_ROUTE] == "mcp"


async def test_async_method_with_operation_from_an_argument(
    harness: Harness, async_backend: Make
) -> None:
    class Router:
        def __init__(self) -> None:
            self.paths = {
                "direct": async_backend("direct", fail=Throttled),
                "mcp": async_backend("mcp"),
            }

        @route(operation_from="request.kind")
        async def handle(self, request: dict[str, str]) -> Any:
            try:
                return await self.paths["direct"](request)
            except Throttled:
                return await self.paths["mcp"](request)

    assert inspect.iscoroutinefunction(Router.handle)
    assert await Router().handle({"kind": "standard"}) == "ok"

    route_span = harness.span("route standard")
    assert route_span.attributes[HYBRID_ROUTING_ROUTE] == "mcp"
    assert harness.span("attempt mcp").attributes[HYBRID_ROUTING_FALLBACK_FROM] == "direct"


def test_set_route_names_the_serving_path(harness: Harness, backend: Make) -> None:
    @route(operation="standard")
    def handle() -> str:
        try:
            backend("direct", fail=Throttled)()
        except Throttled:
            set_route("fallback")
        return "canned"

    assert handle() == "canned"
    span = harness.span("route standard")
    assert span.attributes[HYBRID_ROUTING_ROUTE] == "fallback"
    assert span.attributes[HYBRID_ROUTING_OUTCOME] == "success"


def test_record_cache_lookup_hit_makes_route_cache(harness: Harness) -> None:
    @route(operation="costAnalysis")
    def handle() -> str:
        record_cache_lookup(hit=True)
        return "from cache"

    handle()
    assert harness.span("route costAnalysis").attributes[HYBRID_ROUTING_ROUTE] == "cache"
    assert harness.counts(HYBRID_ROUTING_CACHE_LOOKUPS) == {
        keyed({HYBRID_ROUTING_CACHE_RESULT: "hit", HYBRID_ROUTING_OPERATION: "costAnalysis"}): 1
    }


async def test_cached_decorator_sync_and_async(harness: Harness) -> None:
    store = {"a": 1}

    @cached
    def get(key: str) -> Any:
        return store.get(key)

    @cached
    async def aget(key: str) -> Any:
        return store.get(key)

    @route(operation="op")
    async def handle() -> Any:
        return get("a"), await aget("b")

    assert await handle() == (1, None)
    assert harness.counts(HYBRID_ROUTING_CACHE_LOOKUPS) == {
        keyed({HYBRID_ROUTING_CACHE_RESULT: "hit", HYBRID_ROUTING_OPERATION: "op"}): 1,
        keyed({HYBRID_ROUTING_CACHE_RESULT: "miss", HYBRID_ROUTING_OPERATION: "op"}): 1,
    }


def test_api_and_declared_router_produce_identical_telemetry(
    harness: Harness, instrument: Instrument, backend: Make
) -> None:
    import importlib

    instrument(routers="routing_sample.router:route_by_kind(operation=request.operation_type)")
    app = importlib.import_module("routing_sample.router")

    @route(operation_from="request.operation_type")
    def decorated(request: Any, call: Any) -> Any:
        return call(request)

    app.route_by_kind(app.Request("emergency"), backend("direct"))
    decorated(app.Request("emergency"), backend("direct"))

    spans = [s for s in harness.spans() if s.name == "route emergency"]
    assert len(spans) == 2 and spans[0].attributes == spans[1].attributes
    assert list(harness.counts(HYBRID_ROUTING_REQUEST_DURATION).values()) == [2]


def test_outside_a_route_set_route_is_ignored(harness: Harness) -> None:
    set_route("direct")
    assert harness.spans() == []


def test_both_operation_and_operation_from_is_an_error() -> None:
    with pytest.raises(ValueError, match="not both"):
        route(operation="a", operation_from="b.c")


def test_operation_from_a_missing_parameter_is_an_error() -> None:
    with pytest.raises(ValueError, match="no parameter 'request'"):

        @route(operation_from="request.kind")
        def handle(payload: Any) -> None: ...
