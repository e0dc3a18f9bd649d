"""MCP tool calls against a real stdio server: one span per call, attempts, errors, metric."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from instrumentation.mcp.mcp_harness import support_tools
from instrumentation.routing.otel_harness import Harness, Throttled, backend_call, keyed
from mcp.shared.exceptions import MCPError
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

from routewatch.instrumentation import begin_attempt, route
from routewatch.instrumentation.mcp.patch import Spans
from routewatch.instrumentation.semconv import (
    ERROR_TYPE,
    GEN_AI_OPERATION_NAME,
    GEN_AI_TOOL_NAME,
    HYBRID_ROUTING_ATTEMPT,
    HYBRID_ROUTING_FALLBACK_FROM,
    HYBRID_ROUTING_FALLBACK_TO,
    HYBRID_ROUTING_OUTCOME,
    HYBRID_ROUTING_REASON,
    HYBRID_ROUTING_ROUTE,
    MCP_CLIENT_OPERATION_DURATION,
    MCP_DURATION_BUCKETS,
    MCP_METHOD_NAME,
)

Instrument = Callable[..., Any]


def parent_of(span: ReadableSpan, harness: Harness) -> ReadableSpan:
    assert span.parent is not None
    return next(s for s in harness.spans() if s.context.span_id == span.parent.span_id)


def client_spans(harness: Harness) -> list[ReadableSpan]:
    return [s for s in harness.spans() if s.kind is SpanKind.CLIENT]


def traceparent_span_id(traceparent: str) -> int:
    return int(traceparent.split("-")[2], 16)


async def test_tool_call_in_a_route_enriches_the_sdk_span(
    harness: Harness, instrument: Instrument, server_log: Any
) -> None:
    instrument()

    @route(operation="standard")
    async def handle(session: Any) -> tuple[Any, Any]:
        answer = await session.call_tool("lookup_runbook", {"alert": "HighLatency"})
        carried = await session.call_tool("received_traceparent", {})
        return answer, carried

    async with support_tools(server_log) as session:
        answer, carried = await handle(session)

    assert answer.content[0].text == "runbook for HighLatency"
    route_span = harness.span("route standard")
    assert route_span.attributes[HYBRID_ROUTING_ROUTE] == "mcp"
    first, second = sorted(
        (s for s in harness.spans() if s.name == "attempt mcp"),
        key=lambda s: s.attributes[HYBRID_ROUTING_ATTEMPT],
    )
    assert first.attributes[HYBRID_ROUTING_OUTCOME] == "success"
    # Exactly one CLIENT span per tool call: the SDK's, under the attempt.
    tool_spans = [s for s in client_spans(harness) if "tools/call" in s.name]
    assert [s.name for s in tool_spans] == [
        "MCP send tools/call lookup_runbook",
        "MCP send tools/call received_traceparent",
    ]
    sdk_span = tool_spans[0]
    assert sdk_span.instrumentation_scope.name == "mcp-python-sdk"
    assert parent_of(sdk_span, harness) is first
    assert parent_of(tool_spans[1], harness) is second
    assert second.attributes[HYBRID_ROUTING_ATTEMPT] == 2
    assert parent_of(first, harness) is route_span
    assert sdk_span.attributes[MCP_METHOD_NAME] == "tools/call"
    assert sdk_span.attributes[GEN_AI_TOOL_NAME] == "lookup_runbook"
    assert sdk_span.attributes[GEN_AI_OPERATION_NAME] == "execute_tool"
    assert sdk_span.attributes[HYBRID_ROUTING_ROUTE] == "mcp"
    assert sdk_span.attributes[HYBRID_ROUTING_ATTEMPT] == 1
    assert ERROR_TYPE not in (sdk_span.attributes or {})
    assert sdk_span.end_time is not None and sdk_span.end_time <= first.end_time
    # The server got the SDK span's context in params._meta.
    assert traceparent_span_id(carried.content[0].text) == tool_spans[1].context.span_id

    metric = harness.metric(MCP_CLIENT_OPERATION_DURATION)
    assert metric.unit == "s"
    assert tuple(metric.data.data_points[0].explicit_bounds) == MCP_DURATION_BUCKETS
    assert harness.counts(MCP_CLIENT_OPERATION_DURATION) == {
        keyed({MCP_METHOD_NAME: "tools/call", GEN_AI_TOOL_NAME: "lookup_runbook"}): 1,
        keyed({MCP_METHOD_NAME: "tools/call", GEN_AI_TOOL_NAME: "received_traceparent"}): 1,
    }


async def test_error_results_protocol_errors_and_fallback_to_direct(
    harness: Harness, instrument: Instrument, server_log: Any
) -> None:
    instrument()
    direct = backend_call(harness.tracer_provider, "direct", result="direct answer")

    @route(operation="standard")
    async def handle(session: Any, tool: str) -> Any:
        result = await session.call_tool(tool, {"reason": "no runbook"})
        if result.is_error:
            return direct()
        return result

    async with support_tools(server_log) as session:
        assert await handle(session, "reject") == "direct answer"
        crashed = await session.call_tool("crash", {})  # outside any route
        with pytest.raises(MCPError) as info:
            await handle(session, "invalid_params")

    assert crashed.is_error
    assert info.value.code == -32602
    rejected = harness.span("MCP send tools/call reject")
    assert rejected.attributes[ERROR_TYPE] == "tool_error"
    assert rejected.status.status_code is StatusCode.ERROR
    fallback = harness.span("attempt direct")
    assert fallback.attributes[HYBRID_ROUTING_FALLBACK_FROM] == "mcp"
    assert fallback.attributes[HYBRID_ROUTING_FALLBACK_TO] == "direct"
    assert fallback.attributes[HYBRID_ROUTING_REASON] == "tool_error"
    served = [s for s in harness.spans() if s.name == "route standard"]
    assert [s.attributes[HYBRID_ROUTING_ROUTE] for s in served] == ["direct", "mcp"]
    assert [s.attributes[HYBRID_ROUTING_OUTCOME] for s in served] == ["success", "error"]

    crash_span = harness.span("MCP send tools/call crash")
    assert crash_span.parent is None  # no route, no attempt
    assert crash_span.attributes[ERROR_TYPE] == "tool_error"
    protocol = harness.span("MCP send tools/call invalid_params")
    assert protocol.attributes[ERROR_TYPE] == "-32602"
    assert parent_of(protocol, harness).attributes[ERROR_TYPE] == "-32602"
    assert harness.counts(MCP_CLIENT_OPERATION_DURATION) == {
        keyed({MCP_METHOD_NAME: "tools/call", GEN_AI_TOOL_NAME: t, ERROR_TYPE: e}): 1
        for t, e in (
            ("reject", "tool_error"),
            ("crash", "tool_error"),
            ("invalid_params", "-32602"),
        )
    }


async def test_without_sdk_spans_routewatch_makes_the_span_and_injects_context(
    harness: Harness, instrument: Instrument, server_log: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The mcp 1.x path, run against the installed SDK with its tracer silenced."""
    import mcp.shared._otel

    monkeypatch.setattr(mcp.shared._otel, "_tracer", trace.NoOpTracer())
    instrument(spans=Spans.OWN_SPAN)

    @route(operation="standard")
    async def handle(session: Any) -> Any:
        return await session.call_tool("received_traceparent", {}, meta={"keep": "me"})

    async with support_tools(server_log) as session:
        carried = await handle(session)
        rejected = await session.call_tool("reject", {"reason": "no"})

    assert rejected.is_error
    own = harness.span("tools/call received_traceparent")
    assert own.kind is SpanKind.CLIENT
    assert own.instrumentation_scope.name == "routewatch.instrumentation.mcp"
    assert parent_of(own, harness).name == "attempt mcp"
    assert own.attributes[GEN_AI_TOOL_NAME] == "received_traceparent"
    assert traceparent_span_id(carried.content[0].text) == own.context.span_id
    assert harness.span("tools/call reject").attributes[ERROR_TYPE] == "tool_error"
    assert len(client_spans(harness)) == 2


def test_begin_attempt_in_a_test_backend_and_mcp_share_numbering(
    harness: Harness, instrument: Instrument
) -> None:
    instrument()

    @route(operation="o")
    def handle() -> list[int]:
        numbers = []
        for path in ("direct", "mcp"):
            attempt = begin_attempt(path)
            assert attempt is not None
            numbers.append(attempt.number)
            attempt.end("error", Throttled.__name__)
        return numbers

    assert handle() == [1, 2]
