"""Declared routers: the span tree route -> attempt -> backend call, and each route's verdict."""

from __future__ import annotations

import asyncio
import importlib
import threading
from collections.abc import Callable
from typing import Any

import pytest
from instrumentation.routing.otel_harness import Harness, Throttled
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

from routewatch.instrumentation.semconv import (
    ERROR_TYPE,
    HYBRID_ROUTING_ATTEMPT,
    HYBRID_ROUTING_CACHE_LOOKUP_EVENT,
    HYBRID_ROUTING_CACHE_RESULT,
    HYBRID_ROUTING_FALLBACK_EVENT,
    HYBRID_ROUTING_FALLBACK_FROM,
    HYBRID_ROUTING_FALLBACK_TO,
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


def sample() -> Any:
    return importlib.import_module("routing_sample.router")


def parent_of(span: ReadableSpan, harness: Harness) -> ReadableSpan:
    assert span.parent is not None
    return next(s for s in harness.spans() if s.context.span_id == span.parent.span_id)


def test_route_span_wraps_attempt_wraps_backend_call(
    harness: Harness, instrument: Instrument, backend: Make
) -> None:
    instrument(routers=ROUTER)
    app = sample()
    router = app.Router({"direct": backend("direct", result="answer")})

    assert router.handle(app.Request("infrastructure")) == "answer"

    route = harness.span("route infrastructure")
    attempt = harness.span("attempt direct")
    call = harness.span("call direct")
    assert route.kind is SpanKind.INTERNAL and attempt.kind is SpanKind.INTERNAL
    assert route.parent is None
    assert parent_of(attempt, harness) is route
    assert parent_of(call, harness) is attempt
    assert dict(route.attributes or {}) == {
        HYBRID_ROUTING_OPERATION: "infrastructure",
        HYBRID_ROUTING_ROUTE: "direct",
        HYBRID_ROUTING_OUTCOME: "success",
    }
    assert dict(attempt.attributes or {}) == {
        HYBRID_ROUTING_OPERATION: "infrastructure",
        HYBRID_ROUTING_ROUTE: "direct",
        HYBRID_ROUTING_ATTEMPT: 1,
        HYBRID_ROUTING_OUTCOME: "success",
    }
    assert route.status.status_code is StatusCode.UNSET


def test_request_duration_carries_the_route_trace_as_exemplar(
    harness: Harness, instrument: Instrument, backend: Make
) -> None:
    # Latency alerts link to example traces through these exemplars.
    instrument(routers=ROUTER)
    app = sample()
    router = app.Router({"direct": backend("direct", result="answer")})

    router.handle(app.Request("infrastructure"))

    route = harness.span("route infrastructure")
    [point] = harness.points(HYBRID_ROUTING_REQUEST_DURATION)
    assert [e.trace_id for e in point.exemplars] == [route.context.trace_id]
    assert [e.span_id for e in point.exemplars] == [route.context.span_id]


def test_fallback_after_failed_attempt_is_recorded(
    harness: Harness, instrument: Instrument, backend: Make
) -> None:
    instrument(routers=ROUTER)
    app = sample()
    router = app.Router({"direct": backend("direct", fail=Throttled), "mcp": backend("mcp")})

    assert router.handle(app.Request("implementation", plan=("direct", "mcp"))) == "ok"

    first, second = harness.span("attempt direct"), harness.span("attempt mcp")
    assert first.attributes[HYBRID_ROUTING_ATTEMPT] == 1
    assert first.attributes[HYBRID_ROUTING_OUTCOME] == "error"
    assert first.attributes[ERROR_TYPE] == "Throttled"
    assert first.status.status_code is StatusCode.ERROR
    assert HYBRID_ROUTING_FALLBACK_FROM not in (first.attributes or {})
    assert second.attributes[HYBRID_ROUTING_ATTEMPT] == 2
    assert second.attributes[HYBRID_ROUTING_OUTCOME] == "success"
    assert second.attributes[HYBRID_ROUTING_FALLBACK_FROM] == "direct"
    assert second.attributes[HYBRID_ROUTING_FALLBACK_TO] == "mcp"
    assert second.attributes[HYBRID_ROUTING_REASON] == "Throttled"
    (event,) = second.events
    assert event.name == HYBRID_ROUTING_FALLBACK_EVENT
    assert dict(event.attributes or {}) == {
        HYBRID_ROUTING_FALLBACK_FROM: "direct",
        HYBRID_ROUTING_FALLBACK_TO: "mcp",
        ERROR_TYPE: "Throttled",
    }
    route = harness.span("route implementation")
    assert route.attributes[HYBRID_ROUTING_ROUTE] == "mcp"
    assert route.attributes[HYBRID_ROUTING_OUTCOME] == "success"
    assert ERROR_TYPE not in (route.attributes or {})


def test_attempts_are_numbered_in_order(
    harness: Harness, instrument: Instrument, backend: Make
) -> None:
    instrument(routers=ROUTER)
    app = sample()
    backends = {
        "direct": backend("direct", fail=Throttled),
        "mcp": backend("mcp", fail=TimeoutError),
        "agent": backend("agent"),
    }
    app.Router(backends).handle(app.Request("standard", plan=("direct", "mcp", "agent")))

    attempts = sorted(
        (s for s in harness.spans() if s.name.startswith("attempt ")),
        key=lambda s: s.attributes[HYBRID_ROUTING_ATTEMPT],
    )
    assert [(s.name, s.attributes[HYBRID_ROUTING_ATTEMPT]) for s in attempts] == [
        ("attempt direct", 1),
        ("attempt mcp", 2),
        ("attempt agent", 3),
    ]
    assert attempts[2].attributes[HYBRID_ROUTING_FALLBACK_FROM] == "mcp"
    assert attempts[2].attributes[HYBRID_ROUTING_REASON] == "TimeoutError"
    # Each route numbers its own attempts from 1.
    harness.exporter.clear()
    app.Router({"mcp": backend("mcp")}).handle(app.Request("standard", plan=("mcp",)))
    assert harness.span("attempt mcp").attributes[HYBRID_ROUTING_ATTEMPT] == 1


def test_router_exception_is_reraised_unchanged_and_marks_the_route(
    harness: Harness, instrument: Instrument, backend: Make
) -> None:
    instrument(routers=ROUTER)
    app = sample()
    router = app.Router({"direct": backend("direct", fail=Throttled)})

    with pytest.raises(Throttled) as info:
        router.handle(app.Request("emergency"))
    assert str(info.value) == "direct"

    route = harness.span("route emergency")
    assert route.attributes[HYBRID_ROUTING_OUTCOME] == "error"
    assert route.attributes[ERROR_TYPE] == "Throttled"
    assert route.attributes[HYBRID_ROUTING_ROUTE] == "direct"
    assert route.status.status_code is StatusCode.ERROR
    assert [e.name for e in route.events] == ["exception"]


def test_router_that_swallows_every_failure_is_still_an_error(
    harness: Harness, instrument: Instrument, backend: Make
) -> None:
    instrument(routers="routing_sample.router:Router.handle_or_apologise(operation=request.kind)")
    app = sample()
    router = app.Router({"direct": backend("direct", fail=Throttled)})

    assert router.handle_or_apologise(app.Request("x", kind=app.Kind.EMERGENCY)) == "sorry"

    route = harness.span("route emergency")
    assert route.attributes[HYBRID_ROUTING_OUTCOME] == "error"
    assert route.attributes[ERROR_TYPE] == "Throttled"


def test_cache_hit_without_backend_is_route_cache(
    harness: Harness, instrument: Instrument, backend: Make
) -> None:
    instrument(routers=ROUTER, caches=CACHE)
    app = sample()
    cache = app.SupportCache()
    cache.entries["costAnalysis"] = "cached answer"
    router = app.Router({"direct": backend("direct")}, cache)

    assert router.handle(app.Request("costAnalysis")) == "cached answer"
    assert router.handle(app.Request("securityAudit")) == "ok"

    hit = harness.span("route costAnalysis")
    assert hit.attributes[HYBRID_ROUTING_ROUTE] == "cache"
    assert hit.attributes[HYBRID_ROUTING_OUTCOME] == "success"
    assert [(e.name, dict(e.attributes or {})) for e in hit.events] == [
        (HYBRID_ROUTING_CACHE_LOOKUP_EVENT, {HYBRID_ROUTING_CACHE_RESULT: "hit"})
    ]
    assert harness.children(hit) == []
    miss = harness.span("route securityAudit")
    assert miss.attributes[HYBRID_ROUTING_ROUTE] == "direct"
    assert [dict(e.attributes or {}) for e in miss.events] == [
        {HYBRID_ROUTING_CACHE_RESULT: "miss"}
    ]


def test_route_without_backend_or_cache_hit_is_other(
    harness: Harness, instrument: Instrument
) -> None:
    instrument(routers="routing_sample.router:route_payload")
    sample().route_payload({}, lambda payload: "local answer")
    assert harness.span("route route_payload").attributes[HYBRID_ROUTING_ROUTE] == "other"


async def test_async_router_and_async_cache(
    harness: Harness, instrument: Instrument, async_backend: Make
) -> None:
    instrument(
        routers="routing_sample.router:Router.ahandle(operation=request.operation_type)",
        caches="routing_sample.router:SupportCache.aget",
    )
    app = sample()
    cache = app.SupportCache()
    router = app.Router(
        {"direct": async_backend("direct", fail=Throttled), "mcp": async_backend("mcp")}, cache
    )

    assert await router.ahandle(app.Request("meta_monitor", plan=("direct", "mcp"))) == "ok"

    route = harness.span("route meta_monitor")
    assert route.attributes[HYBRID_ROUTING_ROUTE] == "mcp"
    assert parent_of(harness.span("attempt mcp"), harness) is route
    assert harness.span("attempt mcp").attributes[HYBRID_ROUTING_FALLBACK_FROM] == "direct"
    assert [dict(e.attributes or {}) for e in route.events] == [
        {HYBRID_ROUTING_CACHE_RESULT: "miss"}
    ]


async def test_concurrent_async_routes_keep_their_own_state(
    harness: Harness, instrument: Instrument, async_backend: Make
) -> None:
    instrument(routers="routing_sample.router:route_async(operation=request.operation_type)")
    app = sample()
    gate = asyncio.Event()

    def slow(path: str) -> Any:
        inner = async_backend(path)

        async def call(request: Any) -> Any:
            await gate.wait()
            return await inner(request)

        return call

    first = asyncio.create_task(app.route_async(app.Request("first"), slow("direct")))
    second = asyncio.create_task(app.route_async(app.Request("second"), slow("mcp")))
    await asyncio.sleep(0)
    gate.set()
    await asyncio.gather(first, second)

    for operation, path in (("first", "direct"), ("second", "mcp")):
        route = harness.span(f"route {operation}")
        (attempt,) = harness.children(route)
        assert attempt.name == f"attempt {path}"
        assert attempt.attributes[HYBRID_ROUTING_ATTEMPT] == 1
        assert route.attributes[HYBRID_ROUTING_ROUTE] == path


def test_threads_each_have_their_own_route(
    harness: Harness, instrument: Instrument, backend: Make
) -> None:
    instrument(routers="routing_sample.router:route_by_kind(operation=request.operation_type)")
    app = sample()
    barrier = threading.Barrier(4)

    def run(index: int) -> None:
        call = backend("direct" if index % 2 else "mcp")

        def synchronised(request: Any) -> Any:
            barrier.wait(timeout=10)
            return call(request)

        app.route_by_kind(app.Request(f"op{index}"), synchronised)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    for index in range(4):
        route = harness.span(f"route op{index}")
        (attempt,) = harness.children(route)
        assert attempt.attributes[HYBRID_ROUTING_ATTEMPT] == 1
        assert route.attributes[HYBRID_ROUTING_ROUTE] == ("direct" if index % 2 else "mcp")


def test_nested_router_is_a_child_route_and_outer_state_survives(
    harness: Harness, instrument: Instrument, backend: Make
) -> None:
    instrument(
        routers=(
            "routing_sample.router:Router.handle(operation=request.operation_type);"
            "routing_sample.router:route_payload"
        )
    )
    app = sample()

    def delegate(request: Any) -> Any:
        return app.route_payload({}, backend("agent"))

    backends = {"direct": backend("direct", fail=Throttled), "fallback": delegate}
    app.Router(backends).handle(app.Request("outer", plan=("direct", "fallback")))

    outer, inner = harness.span("route outer"), harness.span("route route_payload")
    assert parent_of(inner, harness) is outer
    assert parent_of(harness.span("attempt agent"), harness) is inner
    assert harness.span("attempt agent").attributes[HYBRID_ROUTING_ATTEMPT] == 1
    assert HYBRID_ROUTING_FALLBACK_FROM not in (harness.span("attempt agent").attributes or {})
    assert inner.attributes[HYBRID_ROUTING_ROUTE] == "agent"
    # The outer route saw one failed direct attempt and a nested route that served it.
    assert outer.attributes[HYBRID_ROUTING_ROUTE] == "direct"
    assert outer.attributes[HYBRID_ROUTING_OUTCOME] == "error"


def test_backend_outside_a_route_gets_no_attempt(harness: Harness, backend: Make) -> None:
    assert backend("direct")() == "ok"
    assert [s.name for s in harness.spans()] == ["call direct"]
    assert harness.span("call direct").parent is None


def test_attempt_end_is_idempotent(harness: Harness, instrument: Instrument) -> None:
    from routewatch.instrumentation import begin_attempt

    instrument(routers="routing_sample.router:route_payload")
    app = sample()
    seen: list[Any] = []

    def call(_: Any) -> None:
        attempt = begin_attempt("direct")
        assert attempt is not None
        attempt.end("error", "Throttled")
        attempt.end("success")
        seen.append((attempt.path, attempt.number, dict(attempt.attributes)))

    app.route_payload({}, call)
    assert seen == [
        ("direct", 1, {HYBRID_ROUTING_OPERATION: "route_payload", HYBRID_ROUTING_ROUTE: "direct"})
    ]
    attempt = harness.span("attempt direct")
    assert attempt.attributes[HYBRID_ROUTING_OUTCOME] == "error"
    assert harness.span("route route_payload").attributes[HYBRID_ROUTING_OUTCOME] == "error"


def test_attempt_still_streaming_when_the_router_returns_served_the_route(
    harness: Harness, instrument: Instrument
) -> None:
    from routewatch.instrumentation import begin_attempt

    instrument(routers="routing_sample.router:route_payload")
    app = sample()
    open_attempts: list[Any] = []

    def start_stream(_: Any) -> str:
        open_attempts.append(begin_attempt("direct"))
        return "stream"

    app.route_payload({}, start_stream)
    route = harness.span("route route_payload")
    assert route.attributes[HYBRID_ROUTING_ROUTE] == "direct"
    assert route.attributes[HYBRID_ROUTING_OUTCOME] == "success"

    open_attempts[0].end("success")  # the stream is consumed after the router returned
    attempt = harness.span("attempt direct")
    assert attempt.attributes[HYBRID_ROUTING_OUTCOME] == "success"
    assert parent_of(attempt, harness) is route


async def test_backend_run_in_a_worker_thread_is_an_attempt_of_the_route(
    harness: Harness, instrument: Instrument, backend: Make
) -> None:
    instrument(routers="routing_sample.router:route_async(operation=request.operation_type)")
    app = sample()
    blocking = backend("direct")

    async def in_thread(request: Any) -> Any:
        return await asyncio.to_thread(blocking, request)  # copies the context

    await app.route_async(app.Request("emergency"), in_thread)
    route = harness.span("route emergency")
    assert parent_of(harness.span("attempt direct"), harness) is route
    assert route.attributes[HYBRID_ROUTING_ROUTE] == "direct"


def test_retry_on_the_same_path_is_not_a_fallback(
    harness: Harness, instrument: Instrument, backend: Make
) -> None:
    instrument(routers=ROUTER)
    app = sample()
    router = app.Router({"direct": backend("direct", fail=Throttled), "mcp": backend("mcp")})
    router.handle(app.Request("standard", plan=("direct", "direct", "mcp")))

    retry, fallback = sorted(
        (s for s in harness.spans() if s.name.startswith("attempt ")),
        key=lambda s: s.attributes[HYBRID_ROUTING_ATTEMPT],
    )[1:]
    assert retry.name == "attempt direct"
    assert HYBRID_ROUTING_FALLBACK_FROM not in (retry.attributes or {})
    assert retry.events == ()
    assert fallback.attributes[HYBRID_ROUTING_FALLBACK_FROM] == "direct"
    assert fallback.attributes[HYBRID_ROUTING_FALLBACK_TO] == "mcp"
    assert [e.name for e in fallback.events] == [HYBRID_ROUTING_FALLBACK_EVENT]
