"""Patch the `mcp` client. Which seam is used depends on what the installed SDK does itself."""

from __future__ import annotations

import enum
import importlib
import importlib.util
import inspect
from timeit import default_timer
from types import ModuleType
from typing import Any

import wrapt
from opentelemetry.instrumentation.utils import is_instrumentation_enabled
from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import Tracer, TracerProvider

from routewatch.instrumentation.mcp.tool_call import (
    McpTelemetry,
    ToolCall,
    error_type_of,
    hold_sdk_span,
    is_error_result,
)
from routewatch.instrumentation.routing.attempts import begin_attempt
from routewatch.instrumentation.semconv import ERROR_TYPE_TOOL_ERROR, OTHER_VALUE, ROUTE_MCP
from routewatch.instrumentation.utils import safe_invoke, warn_once

_SESSION = "mcp.client.session"
_DISPATCHER = "mcp.shared.jsonrpc_dispatcher"
_SDK_OTEL = "mcp.shared._otel"


class Spans(enum.Enum):
    HOLD_SDK_SPAN = "the SDK's span, held open until the result is known"  # mcp 2.x
    SDK_SPAN_AS_IS = "the SDK's span, unchanged"  # an SDK with spans but an unknown seam
    OWN_SPAN = "routewatch's span"  # mcp 1.x


def detect_spans() -> Spans:
    """How tool-call spans come about with the installed mcp."""
    if importlib.util.find_spec(_SDK_OTEL) is None:
        return Spans.OWN_SPAN
    dispatcher = importlib.import_module(_DISPATCHER)
    tracer = getattr(importlib.import_module(_SDK_OTEL), "_tracer", None)
    if (
        callable(getattr(dispatcher, "otel_span", None))
        and isinstance(getattr(dispatcher, "JSONRPCDispatcher", None), type)
        and isinstance(tracer, Tracer)
    ):
        return Spans.HOLD_SDK_SPAN
    return Spans.SDK_SPAN_AS_IS


class McpPatcher:
    """`ClientSession.call_tool`: attempt, span, `error.type=tool_error`, duration metric.

    Importing mcp takes seconds, so an app that has it installed but never imports it must not
    pay for it at startup: the patch is applied when the app imports `mcp.client.session`.
    """

    def __init__(self) -> None:
        self._patches: list[tuple[Any, str, Any]] = []
        self._active = False

    def instrument(
        self,
        tracer_provider: TracerProvider | None,
        meter_provider: MeterProvider | None,
        **kwargs: Any,
    ) -> None:
        if importlib.util.find_spec("mcp") is None:
            raise ImportError("mcp is not installed")
        self._active = True
        forced: Spans | None = kwargs.get("spans")

        def on_import(module: ModuleType) -> None:
            if not self._active:
                return
            try:
                self._patch(module, tracer_provider, meter_provider, forced)
            except Exception as err:  # an mcp this code does not know: the app goes on
                warn_once("mcp:patch", "routewatch: mcp not instrumented: %r", err)

        wrapt.register_post_import_hook(on_import, _SESSION)

    def _patch(
        self,
        module: ModuleType,
        tracer_provider: TracerProvider | None,
        meter_provider: MeterProvider | None,
        forced: Spans | None,
    ) -> None:
        try:
            self._instrument(module.ClientSession, tracer_provider, meter_provider, forced)
        except BaseException:
            self._restore()  # leave nothing half-patched
            raise

    def _instrument(
        self,
        session_class: type,
        tracer_provider: TracerProvider | None,
        meter_provider: MeterProvider | None,
        forced: Spans | None,
    ) -> None:
        # Tests force OWN_SPAN to exercise the mcp 1.x path against the installed SDK.
        spans = forced or detect_spans()
        if spans is Spans.SDK_SPAN_AS_IS:
            warn_once("mcp:seam", "routewatch: mcp's span seam unknown; tool errors not marked")
        inject = accepts_meta(vars(session_class)["call_tool"])
        if spans is Spans.OWN_SPAN and not inject:
            warn_once("mcp:meta", "routewatch: this mcp's call_tool takes no meta; no context sent")
        traced_by_sdk: type | None = None
        if spans is Spans.HOLD_SDK_SPAN:
            dispatcher = importlib.import_module(_DISPATCHER)
            traced_by_sdk = dispatcher.JSONRPCDispatcher
            sdk_otel = importlib.import_module(_SDK_OTEL)
            self._wrap(dispatcher, "otel_span", hold_sdk_span(sdk_otel))
        telemetry = McpTelemetry(tracer_provider, meter_provider)
        self._wrap(session_class, "call_tool", _CallTool(telemetry, spans, inject, traced_by_sdk))

    def _wrap(self, owner: Any, name: str, wrapper: Any) -> None:
        original = vars(owner)[name]
        setattr(owner, name, wrapt.FunctionWrapper(original, wrapper))
        self._patches.append((owner, name, original))

    def uninstrument(self) -> None:
        self._active = False  # an import after this leaves mcp alone
        self._restore()

    def _restore(self) -> None:
        for owner, name, original in reversed(self._patches):
            setattr(owner, name, original)
        self._patches.clear()


class _CallTool:
    """The wrapper of `ClientSession.call_tool(name, arguments, ..., *, meta=None)`."""

    def __init__(
        self, telemetry: McpTelemetry, spans: Spans, inject: bool, traced_by_sdk: type | None
    ) -> None:
        self._telemetry = telemetry
        self._spans = spans
        self._inject = inject
        self._traced_by_sdk = traced_by_sdk

    async def __call__(self, wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        started = (
            safe_invoke(self._start, instance, args, kwargs)
            if is_instrumentation_enabled()
            else None
        )
        if started is None:
            return await wrapped(*args, **kwargs)
        call, kwargs = started
        begun = default_timer()
        error_type: str | None = None
        try:
            result = await wrapped(*args, **kwargs)
            if safe_invoke(is_error_result, result):
                error_type = ERROR_TYPE_TOOL_ERROR
            return result
        except BaseException as error:
            error_type = safe_invoke(error_type_of, error) or OTHER_VALUE
            raise
        finally:
            safe_invoke(call.finish, self._telemetry, error_type, default_timer() - begun)

    def _start(
        self, session: Any, args: Any, kwargs: dict[str, Any]
    ) -> tuple[ToolCall, dict[str, Any]]:
        tool = args[0] if args else kwargs.get("name", "")
        call = ToolCall(str(tool), begin_attempt(ROUTE_MCP))
        if self._needs_own_span(session):
            meta = dict(kwargs.get("meta") or {})
            safe_invoke(call.start_own_span, self._telemetry, meta)
            if self._inject and meta:
                kwargs = {**kwargs, "meta": meta}
        return call, kwargs

    def _needs_own_span(self, session: Any) -> bool:
        if self._spans is not Spans.HOLD_SDK_SPAN:
            return self._spans is Spans.OWN_SPAN
        # mcp 2.x traces only what goes through its JSON-RPC dispatcher; an in-process
        # connection (DirectDispatcher) makes no client span, so routewatch makes one.
        dispatcher = getattr(session, "_dispatcher", None)
        return dispatcher is not None and not isinstance(dispatcher, self._traced_by_sdk or ())


def accepts_meta(call_tool: Any) -> bool:
    """Whether this SDK's call_tool takes `meta` (mcp >= 1.13), the carrier for trace context."""
    return "meta" in inspect.signature(call_tool).parameters
