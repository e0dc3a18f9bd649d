"""Telemetry never reaches the app: broken providers, hostile arguments, suppression."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from instrumentation.routing.otel_harness import Harness, Throttled
from opentelemetry import metrics, trace
from opentelemetry.instrumentation.utils import suppress_instrumentation

from routewatch.instrumentation import begin_attempt
from routewatch.instrumentation.routing.patch import RoutingPatcher
from routewatch.instrumentation.semconv import HYBRID_ROUTING_OUTCOME, HYBRID_ROUTING_ROUTE

ROUTER = "routing_sample.router:Router.handle(operation=request.operation_type)"
CACHE = "routing_sample.router:SupportCache.get"
Make = Callable[..., Any]


class _BrokenTracer(trace.NoOpTracer):
    def start_span(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("tracer is broken")

    def start_as_current_span(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("tracer is broken")


class BrokenTracerProvider(trace.NoOpTracerProvider):
    def get_tracer(self, *args: Any, **kwargs: Any) -> trace.Tracer:
        return _BrokenTracer()


class _Raising:
    def add(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("instrument is broken")

    record = add


class _BrokenMeter(metrics.NoOpMeter):
    def create_counter(self, *args: Any, **kwargs: Any) -> Any:
        return _Raising()

    def create_histogram(self, *args: Any, **kwargs: Any) -> Any:
        return _Raising()


class BrokenMeterProvider(metrics.NoOpMeterProvider):
    def get_meter(self, *args: Any, **kwargs: Any) -> metrics.Meter:
        return _BrokenMeter("broken")


@pytest.fixture
def patch_with(sample: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Any]]:
    patchers: list[RoutingPatcher] = []

    def start(tracer_provider: Any, meter_provider: Any) -> None:
        monkeypatch.setenv("OTEL_PYTHON_ROUTEWATCH_ROUTERS", ROUTER)
        monkeypatch.setenv("OTEL_PYTHON_ROUTEWATCH_CACHES", CACHE)
        patcher = RoutingPatcher()
        patcher.instrument(tracer_provider, meter_provider)
        patchers.append(patcher)

    yield start
    for patcher in patchers:
        patcher.uninstrument()


def test_broken_tracer_never_reaches_the_app(
    patch_with: Callable[..., Any], harness: Harness
) -> None:
    patch_with(BrokenTracerProvider(), harness.meter_provider)
    app = importlib.import_module("routing_sample.router")
    attempts: list[Any] = []
    failure = Throttled("direct down")

    def direct(request: Any) -> str:
        attempts.append(begin_attempt("direct"))
        raise failure

    def mcp(request: Any) -> str:
        attempts.append(begin_attempt("mcp"))
        return "served"

    cache = app.SupportCache()
    router = app.Router({"direct": direct, "mcp": mcp}, cache)
    assert router.handle(app.Request("standard", plan=("direct", "mcp"))) == "served"
    with pytest.raises(Throttled) as info:
        router.handle(app.Request("standard", plan=("direct",)))
    assert info.value is failure
    assert attempts == [None, None, None]


def test_broken_meter_never_reaches_the_app_and_spans_still_end(
    patch_with: Callable[..., Any], harness: Harness, backend: Make
) -> None:
    patch_with(harness.tracer_provider, BrokenMeterProvider())
    app = importlib.import_module("routing_sample.router")
    cache = app.SupportCache()
    router = app.Router({"direct": backend("direct", fail=Throttled), "mcp": backend("mcp")}, cache)

    assert router.handle(app.Request("standard", plan=("direct", "mcp"))) == "ok"

    route = harness.span("route standard")
    assert route.attributes[HYBRID_ROUTING_ROUTE] == "mcp"
    assert route.attributes[HYBRID_ROUTING_OUTCOME] == "success"
    assert harness.span("attempt direct").end_time is not None
    assert harness.span("attempt mcp").end_time is not None


def test_hostile_operation_argument_gives_other(
    patch_with: Callable[..., Any], harness: Harness, backend: Make
) -> None:
    patch_with(harness.tracer_provider, harness.meter_provider)
    app = importlib.import_module("routing_sample.router")

    class Hostile:
        plan = ("direct",)

        @property
        def operation_type(self) -> str:
            raise RuntimeError("do not touch")

    assert app.Router({"direct": backend("direct")}).handle(Hostile()) == "ok"
    assert harness.span("route _OTHER").attributes[HYBRID_ROUTING_ROUTE] == "direct"


def test_suppressed_instrumentation_records_nothing(
    patch_with: Callable[..., Any], harness: Harness, backend: Make
) -> None:
    patch_with(harness.tracer_provider, harness.meter_provider)
    app = importlib.import_module("routing_sample.router")
    with suppress_instrumentation():
        assert app.Router({"direct": backend("direct")}).handle(app.Request("x")) == "ok"
    assert [s.name for s in harness.spans()] == ["call direct"]
    assert harness.points("hybrid_routing.cache.lookups") == []


def test_route_state_is_restored_when_the_router_raises(
    patch_with: Callable[..., Any], harness: Harness, backend: Make
) -> None:
    patch_with(harness.tracer_provider, harness.meter_provider)
    app = importlib.import_module("routing_sample.router")
    with pytest.raises(Throttled):
        app.Router({"direct": backend("direct", fail=Throttled)}).handle(app.Request("x"))
    assert begin_attempt("direct") is None
    assert not trace.get_current_span().get_span_context().is_valid


def test_unsampled_routes_still_count_in_metrics(
    patch_with: Callable[..., Any], harness: Harness
) -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

    from routewatch.instrumentation.semconv import HYBRID_ROUTING_REQUEST_DURATION

    patch_with(TracerProvider(sampler=ALWAYS_OFF), harness.meter_provider)
    app = importlib.import_module("routing_sample.router")
    attempts: list[Any] = []

    def direct(request: Any) -> str:
        attempt = begin_attempt("direct")
        attempts.append(attempt)
        assert attempt is not None
        attempt.end("success")
        return "ok"

    assert app.Router({"direct": direct}).handle(app.Request("standard")) == "ok"
    assert not trace.get_current_span(attempts[0].context).is_recording()
    ((key, count),) = harness.counts(HYBRID_ROUTING_REQUEST_DURATION).items()
    assert dict(key)[HYBRID_ROUTING_ROUTE] == "direct" and count == 1
