"""McpPatcher's lifecycle and safety, against the same server connected in-process."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from collections.abc import Callable
from typing import Any

import mcp.shared.jsonrpc_dispatcher
import pytest
from instrumentation.mcp.support_tools_server import server
from instrumentation.routing.otel_harness import Harness
from mcp import Client
from mcp.client.session import ClientSession
from mcp.shared.exceptions import MCPError
from opentelemetry import metrics, trace
from opentelemetry.trace import SpanKind

from routewatch.instrumentation import RoutewatchInstrumentor, route
from routewatch.instrumentation.mcp.patch import McpPatcher, Spans, detect_spans
from routewatch.instrumentation.semconv import (
    HYBRID_ROUTING_ATTEMPT,
    HYBRID_ROUTING_OUTCOME,
    MCP_CLIENT_OPERATION_DURATION,
)

Instrument = Callable[..., Any]


def test_installed_mcp_makes_its_own_spans_so_they_are_held() -> None:
    assert detect_spans() is Spans.HOLD_SDK_SPAN


def test_uninstrument_restores_the_sdk(harness: Harness) -> None:
    call_tool = vars(ClientSession)["call_tool"]
    otel_span = vars(mcp.shared.jsonrpc_dispatcher)["otel_span"]
    patcher = McpPatcher()
    patcher.instrument(harness.tracer_provider, harness.meter_provider)
    assert vars(ClientSession)["call_tool"] is not call_tool
    assert vars(mcp.shared.jsonrpc_dispatcher)["otel_span"] is not otel_span
    patcher.uninstrument()
    assert vars(ClientSession)["call_tool"] is call_tool
    assert vars(mcp.shared.jsonrpc_dispatcher)["otel_span"] is otel_span


@pytest.mark.slow
def test_mcp_is_patched_when_the_app_imports_it_not_before() -> None:
    script = textwrap.dedent(
        """
        import sys
        import wrapt
        from routewatch.instrumentation.mcp.patch import McpPatcher

        patcher = McpPatcher()
        patcher.instrument(None, None)
        print("mcp" in sys.modules)
        from mcp.client.session import ClientSession
        print(isinstance(vars(ClientSession)["call_tool"], wrapt.FunctionWrapper))
        patcher.uninstrument()
        print(isinstance(vars(ClientSession)["call_tool"], wrapt.FunctionWrapper))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.split() == ["False", "True", "False"]


def test_instrumentor_patches_and_restores_mcp(harness: Harness) -> None:
    call_tool = vars(ClientSession)["call_tool"]
    instrumentor = RoutewatchInstrumentor()
    instrumentor.instrument(
        tracer_provider=harness.tracer_provider, meter_provider=harness.meter_provider
    )
    try:
        assert vars(ClientSession)["call_tool"] is not call_tool
    finally:
        instrumentor.uninstrument()
    assert vars(ClientSession)["call_tool"] is call_tool


def test_without_mcp_instrument_raises_import_error_and_the_instrumentor_stays_silent(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "mcp", None)
    with pytest.raises(ImportError):
        McpPatcher().instrument(harness.tracer_provider, harness.meter_provider)

    instrumentor = RoutewatchInstrumentor()
    instrumentor.instrument(
        tracer_provider=harness.tracer_provider, meter_provider=harness.meter_provider
    )
    try:

        @route(operation="still_routed")
        def handle() -> str:
            return "ok"

        assert handle() == "ok"
        assert harness.span("route still_routed")
    finally:
        instrumentor.uninstrument()


async def test_in_process_calls_get_routewatch_client_spans_as_separate_attempts(
    harness: Harness, instrument: Instrument
) -> None:
    """mcp 2.x makes no client span for an in-process connection: routewatch makes one,
    and the in-process server's span continues its trace through params._meta."""
    instrument()

    @route(operation="standard")
    async def handle(client: Client) -> list[Any]:
        return await asyncio.gather(
            client.call_tool("lookup_runbook", {"alert": "a"}),
            client.call_tool("reject", {"reason": "b"}),
        )

    async with Client(server) as client:
        answers = await handle(client)

    assert [a.is_error for a in answers] == [False, True]
    attempts = {s.context.span_id: s for s in harness.spans() if s.name == "attempt mcp"}
    assert sorted(s.attributes[HYBRID_ROUTING_ATTEMPT] for s in attempts.values()) == [1, 2]
    for name, outcome in (("lookup_runbook", "success"), ("reject", "error")):
        (client_span,) = [
            s
            for s in harness.spans()
            if s.name == f"tools/call {name}" and s.kind is SpanKind.CLIENT
        ]
        assert client_span.instrumentation_scope.name == "routewatch.instrumentation.mcp"
        assert client_span.parent is not None
        assert attempts[client_span.parent.span_id].attributes[HYBRID_ROUTING_OUTCOME] == outcome
        (server_span,) = [
            s
            for s in harness.spans()
            if s.name == f"tools/call {name}" and s.kind is SpanKind.SERVER
        ]
        assert server_span.parent is not None
        assert server_span.parent.span_id == client_span.context.span_id


class _Broken:
    def __getattr__(self, name: str) -> Any:
        raise RuntimeError("telemetry is broken")


class BrokenTracerProvider(trace.NoOpTracerProvider):
    def get_tracer(self, *args: Any, **kwargs: Any) -> Any:
        return _Broken()


class BrokenMeterProvider(metrics.NoOpMeterProvider):
    def get_meter(self, *args: Any, **kwargs: Any) -> Any:
        meter = metrics.NoOpMeter("broken")
        meter.create_histogram = lambda *a, **k: _Broken()  # type: ignore[method-assign]
        meter.create_counter = lambda *a, **k: _Broken()  # type: ignore[method-assign]
        return meter


async def test_broken_telemetry_never_reaches_the_app(harness: Harness) -> None:
    for spans in (Spans.HOLD_SDK_SPAN, Spans.OWN_SPAN):
        patcher = McpPatcher()
        patcher.instrument(BrokenTracerProvider(), BrokenMeterProvider(), spans=spans)
        try:
            async with Client(server) as client:
                answer = await client.call_tool("lookup_runbook", {"alert": "x"})
                with pytest.raises(MCPError) as info:
                    await client.call_tool("invalid_params", {})
        finally:
            patcher.uninstrument()
        assert answer.content[0].text == "runbook for x"
        assert info.value.code == -32602
    assert harness.points(MCP_CLIENT_OPERATION_DURATION) == []
