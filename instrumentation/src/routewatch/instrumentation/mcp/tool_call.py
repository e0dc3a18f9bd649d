"""One MCP `tools/call` from the client: a route attempt on path `mcp`, its span, its duration.

mcp 2.x opens its own CLIENT span (`MCP send tools/call {tool}`) deep inside the call and ends
it before the result is parsed, so the result's `is_error` would arrive too late to mark it.
For a tool call, `hold_sdk_span` starts that same span (same tracer, name and attributes)
without ending it; `ToolCall.finish` marks it and ends it once the result is known. mcp 1.x
has no spans: `ToolCall.start_own_span` creates the semantic-convention span instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from types import ModuleType
from typing import Any, Final

from opentelemetry import context as otel_context
from opentelemetry import propagate
from opentelemetry.metrics import MeterProvider, get_meter
from opentelemetry.trace import (
    Span,
    SpanKind,
    StatusCode,
    Tracer,
    TracerProvider,
    get_tracer,
    set_span_in_context,
)

from routewatch.instrumentation.routing.attempts import Attempt
from routewatch.instrumentation.routing.bounded import BoundedValues
from routewatch.instrumentation.semconv import (
    ERROR_TYPE,
    ERROR_TYPE_TOOL_ERROR,
    GEN_AI_OPERATION_EXECUTE_TOOL,
    GEN_AI_OPERATION_NAME,
    GEN_AI_TOOL_NAME,
    HYBRID_ROUTING_ATTEMPT,
    HYBRID_ROUTING_ROUTE,
    MCP_CLIENT_OPERATION_DURATION,
    MCP_DURATION_BUCKETS,
    MCP_METHOD_NAME,
    MCP_METHOD_TOOLS_CALL,
    OUTCOME_ERROR,
    OUTCOME_SUCCESS,
)
from routewatch.instrumentation.utils import safe_invoke
from routewatch.instrumentation.version import __version__

_SCOPE: Final = "routewatch.instrumentation.mcp"
MAX_TOOL_NAMES: Final = 64
# The keyword arguments mcp 2.3's otel_span passes on to start_as_current_span. A call with
# any other shape is left to the SDK untouched rather than risk breaking it.
_SDK_SPAN_KWARGS: Final = frozenset(
    {"kind", "attributes", "context", "record_exception", "set_status_on_exception"}
)

_current_call: ContextVar[ToolCall | None] = ContextVar("routewatch_mcp_call", default=None)


class McpTelemetry:
    def __init__(
        self, tracer_provider: TracerProvider | None, meter_provider: MeterProvider | None
    ) -> None:
        self.tracer: Tracer = get_tracer(_SCOPE, __version__, tracer_provider)
        self.duration = get_meter(_SCOPE, __version__, meter_provider).create_histogram(
            MCP_CLIENT_OPERATION_DURATION,
            unit="s",
            description="Duration of an MCP request as observed by the client",
            explicit_bucket_boundaries_advisory=list(MCP_DURATION_BUCKETS),
        )
        self.tool_names = BoundedValues(MAX_TOOL_NAMES)


def error_type_of(error: BaseException) -> str:
    """The JSON-RPC error code for a protocol error (mcp 2.x `code`, 1.x `error.code`),
    else the exception's class name."""
    code = getattr(error, "code", None)
    if not isinstance(code, int):
        code = getattr(getattr(error, "error", None), "code", None)
    return str(code) if isinstance(code, int) else type(error).__qualname__


def is_error_result(result: Any) -> bool:
    flag = getattr(result, "is_error", None)
    if flag is None:
        flag = getattr(result, "isError", None)
    return flag is True


class ToolCall:
    """The state of one `call_tool` while it runs; current in its context."""

    __slots__ = ("_call_token", "_context_token", "attempt", "span", "tool")

    def __init__(self, tool: str, attempt: Attempt | None) -> None:
        self.tool = tool
        self.attempt = attempt
        self.span: Span | None = None
        parent = attempt.context if attempt is not None else otel_context.get_current()
        self._context_token = otel_context.attach(parent)
        self._call_token = _current_call.set(self)

    def start_own_span(self, telemetry: McpTelemetry, meta: dict[str, Any]) -> None:
        """mcp 1.x: the semantic-convention CLIENT span, its context injected into `meta`.

        Raises only before anything changed (no span) or after the span is current, so the
        call can go on either way and `finish` still restores the context exactly."""
        span = telemetry.tracer.start_span(
            f"{MCP_METHOD_TOOLS_CALL} {self.tool}",
            kind=SpanKind.CLIENT,
            attributes={
                MCP_METHOD_NAME: MCP_METHOD_TOOLS_CALL,
                GEN_AI_TOOL_NAME: self.tool,
                GEN_AI_OPERATION_NAME: GEN_AI_OPERATION_EXECUTE_TOOL,
            },
        )
        self.span = span
        otel_context.detach(self._context_token)
        self._context_token = otel_context.attach(set_span_in_context(span))
        propagate.inject(meta)

    def finish(self, telemetry: McpTelemetry, error_type: str | None, duration: float) -> None:
        try:
            _current_call.reset(self._call_token)
            otel_context.detach(self._context_token)
        finally:
            try:
                safe_invoke(self._mark_span, error_type)
            finally:
                if self.span is not None:
                    self.span.end()
        if self.attempt is not None:
            self.attempt.end(OUTCOME_ERROR if error_type else OUTCOME_SUCCESS, error_type)
        attributes = {
            MCP_METHOD_NAME: MCP_METHOD_TOOLS_CALL,
            GEN_AI_TOOL_NAME: telemetry.tool_names.bound(self.tool),
        }
        if error_type is not None:
            attributes[ERROR_TYPE] = error_type
        safe_invoke(telemetry.duration.record, duration, attributes)

    def _mark_span(self, error_type: str | None) -> None:
        span = self.span
        if span is None or not span.is_recording():
            return
        span.set_attribute(GEN_AI_TOOL_NAME, self.tool)
        span.set_attribute(GEN_AI_OPERATION_NAME, GEN_AI_OPERATION_EXECUTE_TOOL)
        if self.attempt is not None:
            span.set_attribute(HYBRID_ROUTING_ROUTE, self.attempt.path)
            span.set_attribute(HYBRID_ROUTING_ATTEMPT, self.attempt.number)
        if error_type is not None:
            span.set_attribute(ERROR_TYPE, error_type)
            if error_type == ERROR_TYPE_TOOL_ERROR:
                span.set_status(StatusCode.ERROR, "tool returned an error result")
            else:
                span.set_status(StatusCode.ERROR)


def hold_sdk_span(sdk_otel: ModuleType) -> Any:
    """A wrapt wrapper for mcp 2.x's `otel_span`: keeps the span of a tool call open. The
    SDK's tracer (`sdk_otel._tracer`) is read per call, as the SDK itself does."""

    def otel_span(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        call = _current_call.get()
        if (
            call is None
            or call.span is not None
            or len(args) != 1
            or not _SDK_SPAN_KWARGS.issuperset(kwargs)
            or (kwargs.get("attributes") or {}).get(MCP_METHOD_NAME) != MCP_METHOD_TOOLS_CALL
        ):
            return wrapped(*args, **kwargs)
        return _held_open(call, sdk_otel._tracer, args[0], kwargs)

    return otel_span


@contextmanager
def _held_open(call: ToolCall, tracer: Tracer, name: str, kwargs: Any) -> Iterator[Span]:
    with tracer.start_as_current_span(name, end_on_exit=False, **kwargs) as span:
        call.span = span
        yield span
