"""Declarations from the environment: import order, shapes of callables, bad entries, undo."""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import wrapt
from instrumentation.routing.otel_harness import Harness

from routewatch.instrumentation import utils
from routewatch.instrumentation.semconv import HYBRID_ROUTING_OPERATION

Instrument = Callable[..., Any]
Make = Callable[..., Any]


@pytest.fixture(autouse=True)
def fresh_warnings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(utils, "_warned", set())
    yield


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def route_names(harness: Harness) -> list[str]:
    return [s.name for s in harness.spans() if s.name.startswith("route ")]


def test_module_imported_later_is_patched_on_import(
    harness: Harness, instrument: Instrument, backend: Make
) -> None:
    instrument(routers="routing_sample.late:handle(operation=operation)")
    assert "routing_sample.late" not in sys.modules

    late = importlib.import_module("routing_sample.late")
    late.handle("emergency", backend("direct"))

    assert route_names(harness) == ["route emergency"]


def test_module_imported_before_is_patched_at_once(
    harness: Harness, instrument: Instrument, backend: Make
) -> None:
    app = importlib.import_module("routing_sample.router")
    instrument(routers="routing_sample.router:route_by_kind(operation=request.kind)")
    app.route_by_kind(app.Request("x", kind=app.Kind.EMERGENCY), backend("direct"))
    assert route_names(harness) == ["route emergency"]  # an Enum gives its value


def test_classmethod_and_staticmethod_positional_and_keyword(
    harness: Harness, instrument: Instrument, backend: Make
) -> None:
    instrument(
        routers=(
            "routing_sample.router:Router.classify(operation=request.operation_type),"
            "routing_sample.router:Router.triage(operation=payload.meta.op-type)"
        )
    )
    app = importlib.import_module("routing_sample.router")
    call = backend("direct")
    app.Router.classify(app.Request("by-class"), call)
    app.Router({}).classify(request=app.Request("by-keyword"), backend=call)
    app.Router.triage({"meta": {"op-type": "static-dict"}}, call)
    app.Router({}).triage(backend=call, payload={"meta": {"op-type": "static-keyword"}})

    assert route_names(harness) == [
        "route by-class",
        "route by-keyword",
        "route static-dict",
        "route static-keyword",
    ]
    assert isinstance(vars(app.Router)["classify"], wrapt.FunctionWrapper)


def test_method_called_through_the_class_reads_the_right_argument(
    harness: Harness, instrument: Instrument, backend: Make
) -> None:
    instrument(routers="routing_sample.router:Router.handle(operation=request.operation_type)")
    app = importlib.import_module("routing_sample.router")
    router = app.Router({"direct": backend("direct")})
    app.Router.handle(router, app.Request("unbound"))
    assert route_names(harness) == ["route unbound"]


def test_without_operation_the_function_name_is_used(
    harness: Harness, instrument: Instrument, backend: Make
) -> None:
    instrument(routers="routing_sample.router:Router.handle")
    app = importlib.import_module("routing_sample.router")
    app.Router({"direct": backend("direct")}).handle(app.Request("ignored"))
    assert route_names(harness) == ["route handle"]


def test_missing_operation_value_is_other_and_logged_once(
    harness: Harness,
    instrument: Instrument,
    backend: Make,
    caplog: pytest.LogCaptureFixture,
) -> None:
    entry = "routing_sample.router:route_payload(operation=payload.operation)"
    instrument(routers=entry)
    app = importlib.import_module("routing_sample.router")
    app.route_payload({"something": "else"}, backend("direct"))
    app.route_payload({}, backend("direct"))

    assert route_names(harness) == ["route _OTHER", "route _OTHER"]
    messages = [m for m in warnings_of(caplog) if entry in m]
    assert len(messages) == 1 and "payload.operation" in messages[0]


def test_inherited_method_is_patched_on_the_subclass_only_and_removed_after(
    harness: Harness, instrument: Instrument, backend: Make
) -> None:
    patcher = instrument(routers="routing_sample.router:SubRouter.handle")
    app = importlib.import_module("routing_sample.router")
    original = vars(app.Router)["handle"]
    app.Router({"direct": backend("direct")}).handle(app.Request("a"))
    app.SubRouter({"direct": backend("direct")}).handle(app.Request("b"))

    assert route_names(harness) == ["route handle"]
    assert vars(app.Router)["handle"] is original
    patcher.uninstrument()
    assert "handle" not in vars(app.SubRouter)


def test_uninstrument_restores_every_callable_and_stops_recording(
    harness: Harness, instrument: Instrument, backend: Make
) -> None:
    app = importlib.import_module("routing_sample.router")
    originals = {
        name: vars(app.Router)[name] for name in ("handle", "ahandle", "classify", "triage")
    }
    get, route_payload = vars(app.SupportCache)["get"], app.route_payload
    patcher = instrument(
        routers=(
            "routing_sample.router:Router.handle;routing_sample.router:Router.ahandle;"
            "routing_sample.router:Router.classify;routing_sample.router:Router.triage;"
            "routing_sample.router:route_payload;routing_sample.late:handle"
        ),
        caches="routing_sample.router:SupportCache.get",
    )
    assert all(isinstance(vars(app.Router)[name], wrapt.FunctionWrapper) for name in originals)
    patcher.uninstrument()

    assert {name: vars(app.Router)[name] for name in originals} == originals
    assert vars(app.SupportCache)["get"] is get
    assert app.route_payload is route_payload
    # A declared module imported after uninstrument stays as it is.
    late = importlib.import_module("routing_sample.late")
    assert not isinstance(late.handle, wrapt.FunctionWrapper)
    app.Router({"direct": backend("direct")}).handle(app.Request("after"))
    assert route_names(harness) == []


def test_wrapper_left_behind_by_another_wrapper_becomes_a_pass_through(
    harness: Harness, instrument: Instrument, backend: Make
) -> None:
    app = importlib.import_module("routing_sample.router")
    patcher = instrument(routers="routing_sample.router:route_payload")
    ours = app.route_payload
    wrapt.wrap_function_wrapper(app, "route_payload", lambda w, i, a, k: w(*a, **k))
    patcher.uninstrument()

    assert app.route_payload.__wrapped__ is ours  # someone else's wrapper kept its place
    assert app.route_payload({}, backend("direct")) == "ok"
    assert route_names(harness) == []


def test_declared_twice_is_patched_once(
    harness: Harness, instrument: Instrument, backend: Make
) -> None:
    instrument(routers="routing_sample.router:route_payload;routing_sample.router:route_payload")
    app = importlib.import_module("routing_sample.router")
    app.route_payload({}, backend("direct"))
    assert route_names(harness) == ["route route_payload"]
    assert not isinstance(app.route_payload.__wrapped__, wrapt.FunctionWrapper)


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ("routing_sample.router:Nope.handle", "has no attribute 'Nope.handle'"),
        ("routing_sample.router:Router.nope", "has no callable 'Router.nope'"),
        ("routing_sample.router:CONSTANT", "has no callable 'CONSTANT'"),
        ("routing_sample.nope:handle", "module 'routing_sample.nope' not found"),
        (
            "routing_sample.router:route_payload(operation=request.kind)",
            "has no parameter 'request'",
        ),
        ("routing_sample.router:Router.handle(operation=x)", "has no parameter 'x'"),
        ("routing_sample.router", "expected 'module.path:Name.attr'"),
        ("routing_sample.router:f(kind=x)", "inside the parentheses"),
    ],
)
def test_bad_declaration_is_logged_once_naming_the_entry_and_others_still_work(
    entry: str,
    reason: str,
    harness: Harness,
    instrument: Instrument,
    backend: Make,
    caplog: pytest.LogCaptureFixture,
) -> None:
    instrument(routers=f"{entry};routing_sample.router:route_by_kind")
    app = importlib.import_module("routing_sample.router")
    app.route_by_kind(app.Request("x"), backend("direct"))
    app.route_by_kind(app.Request("x"), backend("direct"))

    messages = [m for m in warnings_of(caplog) if entry in m]
    assert len(messages) == 1, warnings_of(caplog)
    assert reason in messages[0]
    assert route_names(harness) == ["route route_by_kind"] * 2


def test_bad_cache_declaration_is_logged_naming_the_entry(
    instrument: Instrument, caplog: pytest.LogCaptureFixture
) -> None:
    instrument(caches="routing_sample.router:SupportCache.fetch")
    importlib.import_module("routing_sample.router")
    (message,) = [m for m in warnings_of(caplog) if "SupportCache.fetch" in m]
    assert message.startswith("routewatch: cache 'routing_sample.router:SupportCache.fetch'")


def test_generator_functions_are_refused(
    instrument: Instrument, caplog: pytest.LogCaptureFixture, tmp_path: Any
) -> None:
    (tmp_path / "gen_router.py").write_text("def stream(request):\n    yield request\n")
    sys.path.insert(0, str(tmp_path))
    try:
        instrument(routers="gen_router:stream")
        module = importlib.import_module("gen_router")
        assert list(module.stream(1)) == [1]
        assert not isinstance(module.stream, wrapt.FunctionWrapper)
        assert any("generator functions are not supported" in m for m in warnings_of(caplog))
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("gen_router", None)


def test_operation_attribute_recorded_on_the_route_span(
    harness: Harness, instrument: Instrument, backend: Make
) -> None:
    instrument(routers="routing_sample.router:route_async(operation=request.context.op)")
    app = importlib.import_module("routing_sample.router")

    async def call(request: Any) -> str:
        return "ok"

    import asyncio

    asyncio.run(app.route_async(app.Request("x", context={"op": "standard"}), call))
    assert harness.span("route standard").attributes[HYBRID_ROUTING_OPERATION] == "standard"


def test_decorated_router_that_is_also_declared_makes_one_route(
    harness: Harness, instrument: Instrument, backend: Make, tmp_path: Any
) -> None:
    (tmp_path / "decorated_router.py").write_text(
        "from routewatch.instrumentation import route\n\n"
        "@route(operation='emergency')\n"
        "def handle(call):\n"
        "    return call()\n"
    )
    sys.path.insert(0, str(tmp_path))
    try:
        instrument(routers="decorated_router:handle;decorated_router:handle")
        module = importlib.import_module("decorated_router")
        module.handle(backend("direct"))
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("decorated_router", None)
    assert route_names(harness) == ["route emergency"]


def test_a_second_instrument_does_not_wrap_again(
    harness: Harness, instrument: Instrument, backend: Make
) -> None:
    instrument(routers="routing_sample.router:route_payload")
    instrument(routers="routing_sample.router:route_payload")
    app = importlib.import_module("routing_sample.router")
    app.route_payload({}, backend("direct"))
    assert route_names(harness) == ["route route_payload"]
