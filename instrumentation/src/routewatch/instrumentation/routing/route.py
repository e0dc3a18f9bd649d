"""A routed request in flight: its span, its attempts, its cache lookups and its verdict.

The state of the innermost route lives in a context variable, so concurrent requests on
asyncio tasks or threads each see their own, and a router called inside another router opens
a nested route that ends before the outer one resumes. Tasks and threads started with a copy
of the context share their parent's route; the lock keeps attempt numbering exact for them.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from contextvars import ContextVar, Token
from timeit import default_timer
from types import MappingProxyType

from opentelemetry import context as otel_context
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, StatusCode, get_current_span, set_span_in_context

from routewatch.instrumentation.routing.bounded import bound_route
from routewatch.instrumentation.routing.telemetry import RoutingTelemetry, routing_telemetry
from routewatch.instrumentation.semconv import (
    CACHE_RESULT_HIT,
    CACHE_RESULT_MISS,
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
    HYBRID_ROUTING_ROUTE,
    OTHER_VALUE,
    OUTCOME_ERROR,
    OUTCOME_SUCCESS,
    ROUTE_CACHE,
    ROUTE_OTHER,
)
from routewatch.instrumentation.utils import safe_invoke

_current_route: ContextVar[RouteState | None] = ContextVar("routewatch_route", default=None)


def current_route() -> RouteState | None:
    return _current_route.get()


def error_type_of(error: BaseException) -> str:
    return type(error).__qualname__


def _verdict_attributes(
    telemetry: RoutingTelemetry, operation: str, route: str, outcome: str
) -> Mapping[str, str]:
    """Attributes of hybrid_routing.attempts and .request.duration (the same three keys)."""
    return telemetry.attribute_sets.get(
        ("verdict", operation, route, outcome),
        lambda: {
            HYBRID_ROUTING_OPERATION: operation,
            HYBRID_ROUTING_ROUTE: route,
            HYBRID_ROUTING_OUTCOME: outcome,
        },
    )


# Metric calls go through safe_invoke one by one: a failing instrument must not cost a span
# or the route's bookkeeping.


class LiveAttempt:
    """An attempt on one path; implements `routing.attempts.Attempt`."""

    __slots__ = (
        "_attributes",
        "_context",
        "_ended",
        "_route",
        "_span",
        "number",
        "outcome",
        "path",
    )

    def __init__(
        self,
        route: RouteState,
        path: str,
        number: int,
        parent: Context,
        fallback_from: tuple[str, str] | None,
    ) -> None:
        self.path = path
        self.number = number
        self.outcome: str | None = None  # None while in flight
        self._route = route
        self._ended = False
        operation = route.operation
        # Shared by every attempt of this operation and path: read-only for extensions.
        self._attributes: Mapping[str, str] = route.telemetry.attribute_sets.get(
            ("attempt", operation, path),
            lambda: MappingProxyType(
                {HYBRID_ROUTING_OPERATION: operation, HYBRID_ROUTING_ROUTE: path}
            ),
        )
        attributes: dict[str, str | int] = {
            HYBRID_ROUTING_OPERATION: operation,
            HYBRID_ROUTING_ROUTE: path,
            HYBRID_ROUTING_ATTEMPT: number,
        }
        if fallback_from is not None:
            from_path, reason = fallback_from
            attributes[HYBRID_ROUTING_FALLBACK_FROM] = from_path
            attributes[HYBRID_ROUTING_FALLBACK_TO] = path
            attributes[HYBRID_ROUTING_REASON] = reason
        self._span: Span = route.telemetry.tracer.start_span(
            f"attempt {path}", context=parent, kind=SpanKind.INTERNAL, attributes=attributes
        )
        self._context = set_span_in_context(self._span, parent)
        if fallback_from is not None:
            route.record_fallback(self._span, fallback_from[0], path, fallback_from[1])

    @property
    def context(self) -> Context:
        return self._context

    @property
    def attributes(self) -> Mapping[str, str]:
        return self._attributes

    def end(self, outcome: str, error_type: str | None = None) -> None:
        safe_invoke(self._end, outcome, error_type)

    def _end(self, outcome: str, error_type: str | None) -> None:
        with self._route.lock:
            if self._ended:
                return
            self._ended = True
        outcome = OUTCOME_SUCCESS if outcome == OUTCOME_SUCCESS else OUTCOME_ERROR
        if outcome == OUTCOME_ERROR and not error_type:
            error_type = OTHER_VALUE
        try:
            if error_type is None:
                self._span.set_attribute(HYBRID_ROUTING_OUTCOME, outcome)
            else:
                self._span.set_attributes({HYBRID_ROUTING_OUTCOME: outcome, ERROR_TYPE: error_type})
                self._span.set_status(StatusCode.ERROR)
            self._route.attempt_ended(self, outcome, error_type)
        finally:
            self._span.end()


class RouteState:
    """The innermost route of the current context."""

    def __init__(self, telemetry: RoutingTelemetry, operation: str, span: Span) -> None:
        self.telemetry = telemetry
        self.operation = operation
        self.span = span
        self.lock = threading.Lock()
        self.cache_hit = False
        self.explicit_route: str | None = None
        self._started = default_timer()
        self._attempts: list[LiveAttempt | None] = []
        # The failed attempt not yet followed by one on another path, which is its fallback.
        self._failure: tuple[str, str] | None = None

    def begin_attempt(self, path: str, parent: Context) -> LiveAttempt:
        path = bound_route(path)
        with self.lock:
            number = len(self._attempts) + 1
            # A switch to another path is a fallback; the same path again is a retry, and the
            # failure stays pending for a later switch.
            failure = self._failure
            if failure is not None and failure[0] == path:
                failure = None
            elif failure is not None:
                self._failure = None
            # Reserve the number before the span exists so concurrent attempts never share one.
            self._attempts.append(None)
        attempt = LiveAttempt(self, path, number, parent, failure)
        with self.lock:
            self._attempts[number - 1] = attempt
        return attempt

    def record_fallback(
        self, attempt_span: Span, from_path: str, to_path: str, reason: str
    ) -> None:
        attempt_span.add_event(
            HYBRID_ROUTING_FALLBACK_EVENT,
            {
                HYBRID_ROUTING_FALLBACK_FROM: from_path,
                HYBRID_ROUTING_FALLBACK_TO: to_path,
                ERROR_TYPE: reason,
            },
        )
        safe_invoke(
            self.telemetry.fallbacks.add,
            1,
            {
                HYBRID_ROUTING_FALLBACK_FROM: from_path,
                HYBRID_ROUTING_FALLBACK_TO: to_path,
                HYBRID_ROUTING_REASON: self.telemetry.error_types.bound(reason),
                HYBRID_ROUTING_OPERATION: self.operation,
            },
        )

    def attempt_ended(self, attempt: LiveAttempt, outcome: str, error_type: str | None) -> None:
        with self.lock:
            attempt.outcome = outcome
            if outcome == OUTCOME_ERROR:
                self._failure = (attempt.path, error_type or OTHER_VALUE)
            else:
                self._failure = None
        safe_invoke(
            self.telemetry.attempts.add,
            1,
            _verdict_attributes(self.telemetry, self.operation, attempt.path, outcome),
        )

    def record_cache_lookup(self, hit: bool) -> None:
        if hit:
            self.cache_hit = True

    def verdict(self, error: BaseException | None) -> tuple[str, str, str | None]:
        """(route that served the request, outcome, error type)."""
        with self.lock:
            attempts = [a for a in self._attempts if a is not None]
        # The newest attempt that did not fail (succeeded, or still streaming) served it.
        serving = next((a for a in reversed(attempts) if a.outcome != OUTCOME_ERROR), None)
        if self.explicit_route is not None:
            route = self.explicit_route
        elif serving is not None:
            route = serving.path
        elif attempts:
            route = attempts[-1].path
        elif self.cache_hit:
            route = ROUTE_CACHE
        else:
            route = ROUTE_OTHER
        if error is not None:
            return route, OUTCOME_ERROR, error_type_of(error)
        if attempts and serving is None and self.explicit_route is None:
            # Every backend failed and the router swallowed it: the request was not served.
            failure = self._failure
            return route, OUTCOME_ERROR, failure[1] if failure else OTHER_VALUE
        return route, OUTCOME_SUCCESS, None

    def finish(self, error: BaseException | None) -> None:
        duration = default_timer() - self._started
        try:
            route, outcome, error_type = self.verdict(error)
            verdict = {HYBRID_ROUTING_ROUTE: route, HYBRID_ROUTING_OUTCOME: outcome}
            if error_type is not None:
                verdict[ERROR_TYPE] = error_type
                self.span.set_status(StatusCode.ERROR)
            self.span.set_attributes(verdict)
            if error is not None:
                self.span.record_exception(error)
        finally:
            self.span.end()
        # The route span's context is passed explicitly (it is no longer current here) so that
        # the SDK's trace-based exemplar filter links the duration to this request's trace:
        # latency alerts carry those trace ids.
        safe_invoke(
            self.telemetry.request_duration.record,
            duration,
            _verdict_attributes(self.telemetry, self.operation, route, outcome),
            set_span_in_context(self.span),
        )


class OpenRoute:
    """A route made current by `open_route`; `close` restores the previous state exactly once."""

    __slots__ = ("_context_token", "_route_token", "state")

    def __init__(self, state: RouteState) -> None:
        self.state = state
        self._context_token = otel_context.attach(set_span_in_context(state.span))
        self._route_token: Token[RouteState | None] = _current_route.set(state)

    def close(self, error: BaseException | None) -> None:
        try:
            _current_route.reset(self._route_token)
            otel_context.detach(self._context_token)
        finally:
            self.state.finish(error)


def open_route(operation: str) -> OpenRoute:
    """Start a route span for `operation` and make it the current route."""
    telemetry = routing_telemetry()
    operation = telemetry.operations.bound(operation)
    span = telemetry.tracer.start_span(
        f"route {operation}",
        kind=SpanKind.INTERNAL,
        attributes={HYBRID_ROUTING_OPERATION: operation},
    )
    return OpenRoute(RouteState(telemetry, operation, span))


def record_cache_lookup(hit: bool) -> None:
    """Count one cache lookup; a hit inside a route lets the route be served by `cache`."""
    telemetry = routing_telemetry()
    result = CACHE_RESULT_HIT if hit else CACHE_RESULT_MISS
    attributes = {HYBRID_ROUTING_CACHE_RESULT: result}
    state = _current_route.get()
    if state is not None:
        state.record_cache_lookup(hit)
        attributes[HYBRID_ROUTING_OPERATION] = state.operation
    safe_invoke(telemetry.cache_lookups.add, 1, attributes)
    span = get_current_span()
    if span.is_recording():
        span.add_event(HYBRID_ROUTING_CACHE_LOOKUP_EVENT, {HYBRID_ROUTING_CACHE_RESULT: result})


def set_route(path: str) -> None:
    """Name the path that served the current route, overriding what the attempts imply."""
    state = _current_route.get()
    if state is not None:
        state.explicit_route = bound_route(path)
