"""One traced Bedrock call: its span, its metrics, its routing attempt, ended exactly once."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from timeit import default_timer
from typing import Any

from opentelemetry import context

# Set while the SDK call runs so that an HTTP instrumentation underneath adds no span.
from opentelemetry.context import _SUPPRESS_HTTP_INSTRUMENTATION_KEY, Context
from opentelemetry.trace import INVALID_SPAN, Span, SpanKind, StatusCode, set_span_in_context

from routewatch.instrumentation import semconv
from routewatch.instrumentation.attribute_sets import AttributeSets
from routewatch.instrumentation.bedrock.completion import Completion
from routewatch.instrumentation.bedrock.families import (
    GENERIC,
    Handler,
    family_for,
    read_token_headers,
)
from routewatch.instrumentation.bedrock.model_id import base_model_id
from routewatch.instrumentation.bedrock.operations import OPERATIONS, Operation
from routewatch.instrumentation.bedrock.telemetry import BedrockTelemetry
from routewatch.instrumentation.pricing import Price
from routewatch.instrumentation.routing import attempts
from routewatch.instrumentation.utils import error_type, safe_invoke, server_attributes

_logger = logging.getLogger("routewatch.instrumentation")


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


class ModelCall:
    """Created by `begin_call` just before the SDK call; the patch reports the outcome, and
    for a stream the stream wrapper reports each event and the end. Every public method is
    safe to call in any order and any number of times: the first ending wins."""

    __slots__ = (
        "_attempt",
        "_completion",
        "_ended",
        "_first_chunk",
        "_handler",
        "_metric_attributes",
        "_metric_key",
        "_model",
        "_price",
        "_start",
        "_telemetry",
        "context",
        "operation",
        "span",
    )

    def __init__(
        self,
        *,
        telemetry: BedrockTelemetry,
        operation: Operation,
        handler: Handler,
        span: Span,
        parent: Context,
        attempt: attempts.Attempt | None,
        metric_key: tuple[str, ...],
        metric_attributes: Mapping[str, Any],
        model: str,
        price: Price | None,
    ) -> None:
        self._telemetry = telemetry
        self.operation = operation
        self._handler = handler
        self.span = span
        self._attempt = attempt
        # Metric attribute dicts are shared (telemetry.attribute_sets): never modified here.
        self._metric_key = metric_key
        self._metric_attributes = metric_attributes
        self._model = model
        self._price = price
        self._completion = Completion()
        self._ended = False
        self._first_chunk = True
        self._start = default_timer()
        self.context = context.set_value(
            _SUPPRESS_HTTP_INSTRUMENTATION_KEY, True, set_span_in_context(span, parent)
        )

    # Reading the result -------------------------------------------------------------

    def read_message(self, result: Mapping[str, Any]) -> None:
        safe_invoke(self._handler.read_response, result, self._completion)

    def succeed_with_body(self, data: bytes, result: Mapping[str, Any]) -> None:
        """InvokeModel returned and its body was read."""
        self._read_body(data, result)
        self.succeed()

    def _read_body(self, data: bytes, result: Mapping[str, Any]) -> None:
        try:
            body = json.loads(data)
            if isinstance(body, Mapping):
                self._handler.read_response(body, self._completion)
            headers = result.get("ResponseMetadata", {}).get("HTTPHeaders", {})
            read_token_headers(headers, self._completion)
        except Exception:
            _logger.debug("routewatch: unreadable InvokeModel body", exc_info=True)

    def on_event(self, event: Mapping[str, Any]) -> None:
        """One stream event arrived (called before the app sees it)."""
        try:
            if self._first_chunk:
                self._first_chunk = False
                self._telemetry.time_to_first_chunk.record(
                    max(default_timer() - self._start, 0.0), self._metric_attributes
                )
            self.operation.read_event(self._handler, event, self._completion)
        except Exception:
            _logger.debug("routewatch: unreadable stream event", exc_info=True)

    # Endings ------------------------------------------------------------------------

    def succeed(self) -> None:
        """The call returned, or its stream was read to the end."""
        self._end(None, None)

    def stream_stopped(self) -> None:
        """The app closed the stream, stopped iterating, or dropped it before the end: not an
        error of the call; what arrived until then is recorded."""
        self._end(None, None)

    def fail(self, err: BaseException) -> None:
        """The call raised, or its stream broke."""
        self._end(safe_invoke(error_type, err) or type(err).__qualname__, str(err))

    def _end(self, error: str | None, description: str | None) -> None:
        if self._ended:
            return
        self._ended = True
        try:
            self._record(error, description)
        except Exception:
            _logger.debug("routewatch: recording a Bedrock call failed", exc_info=True)
        finally:
            safe_invoke(self.span.end)
            if self._attempt is not None:
                outcome = semconv.OUTCOME_ERROR if error else semconv.OUTCOME_SUCCESS
                safe_invoke(self._attempt.end, outcome, error)

    def _record(self, error: str | None, description: str | None) -> None:
        telemetry = self._telemetry
        sets = telemetry.attribute_sets
        key = self._metric_key
        attributes = self._metric_attributes
        if error is not None:
            base = attributes
            key = (*key, error)
            attributes = sets.get(key, lambda: {**base, semconv.ERROR_TYPE: error})
        telemetry.duration.record(max(default_timer() - self._start, 0.0), attributes)

        completion = self._completion
        total_input = completion.total_input_tokens
        if total_input is not None:
            telemetry.token_usage.record(
                total_input, _with_token_type(sets, key, attributes, semconv.TOKEN_TYPE_INPUT)
            )
        if completion.output_tokens is not None:
            telemetry.token_usage.record(
                completion.output_tokens,
                _with_token_type(sets, key, attributes, semconv.TOKEN_TYPE_OUTPUT),
            )
        if self._price is not None and completion.has_usage:
            self._record_cost(self._price, completion)

        span = self.span
        if not span.is_recording():
            return
        if error is not None:
            span.set_attribute(semconv.ERROR_TYPE, error)
            span.set_status(StatusCode.ERROR, description)
        span.set_attributes(_response_attributes(completion))
        if telemetry.capture_content and (completion.text or completion.tool_calls):
            span.set_attribute(semconv.GEN_AI_OUTPUT_MESSAGES, _json(completion.output_messages()))

    def _record_cost(self, price: Price, completion: Completion) -> None:
        cost = price.cost(
            completion.input_tokens or 0,
            completion.output_tokens or 0,
            completion.cache_read_tokens or 0,
            completion.cache_write_tokens or 0,
        )
        route = operation = None
        if self._attempt is not None:
            try:
                route_attributes = self._attempt.attributes
                route = route_attributes.get(semconv.HYBRID_ROUTING_ROUTE)
                operation = route_attributes.get(semconv.HYBRID_ROUTING_OPERATION)
            except Exception:  # the cost is still counted, without its route
                _logger.debug("routewatch: unreadable attempt attributes", exc_info=True)
        model = self._model
        attributes = self._telemetry.attribute_sets.get(
            ("cost", model, route, operation), lambda: _cost_attributes(model, route, operation)
        )
        self._telemetry.cost.add(cost, attributes)


def _with_token_type(
    sets: AttributeSets, key: tuple[str, ...], attributes: Mapping[str, Any], token_type: str
) -> Mapping[str, Any]:
    return sets.get(
        (*key, token_type), lambda: {**attributes, semconv.GEN_AI_TOKEN_TYPE: token_type}
    )


def _cost_attributes(model: str, route: str | None, operation: str | None) -> dict[str, str]:
    attributes = {semconv.GEN_AI_REQUEST_MODEL: model}
    if route is not None:
        attributes[semconv.HYBRID_ROUTING_ROUTE] = route
    if operation is not None:
        attributes[semconv.HYBRID_ROUTING_OPERATION] = operation
    return attributes


def _metric_attributes(operation_name: str, endpoint_url: str | None, model: str) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        semconv.GEN_AI_OPERATION_NAME: operation_name,
        semconv.GEN_AI_PROVIDER_NAME: semconv.PROVIDER_AWS_BEDROCK,
        **server_attributes(endpoint_url),
    }
    if model:
        attributes[semconv.GEN_AI_REQUEST_MODEL] = model
    return attributes


def _response_attributes(completion: Completion) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    if completion.response_id:
        attributes[semconv.GEN_AI_RESPONSE_ID] = completion.response_id
    if completion.response_model:
        attributes[semconv.GEN_AI_RESPONSE_MODEL] = completion.response_model
    if completion.finish_reasons:
        attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] = tuple(completion.finish_reasons)
    total_input = completion.total_input_tokens
    if total_input is not None:
        attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] = total_input
    if completion.output_tokens is not None:
        attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] = completion.output_tokens
    if completion.cache_read_tokens is not None:
        attributes[semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = completion.cache_read_tokens
    if completion.cache_write_tokens is not None:
        attributes[semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] = completion.cache_write_tokens
    return attributes


def _request_body(params: Mapping[str, Any]) -> Mapping[str, Any]:
    """InvokeModel's JSON body; a file-like body is not read (it belongs to the app)."""
    body = params.get("body")
    if isinstance(body, bytes | bytearray | str):
        try:
            decoded = json.loads(body)
        except ValueError:  # Bedrock will answer with a ValidationException, which we trace
            return {}
        if isinstance(decoded, Mapping):
            return decoded
    return {}


def begin_call(telemetry: BedrockTelemetry, client: Any, args: tuple[Any, ...]) -> ModelCall | None:
    """Start the span (and the routing attempt) of a Bedrock call, or None for a call that
    is not traced. Never raises."""
    try:
        operations = OPERATIONS.get(client.meta.service_model.service_name)
        if operations is None or len(args) < 2:
            return None
        operation = operations.get(args[0])
        params = args[1]
        if operation is None or not isinstance(params, Mapping):
            return None
        return _begin(telemetry, operation, client, params)
    except Exception:
        _logger.debug("routewatch: cannot trace this Bedrock call", exc_info=True)
        return None


def _begin(
    telemetry: BedrockTelemetry, operation: Operation, client: Any, params: Mapping[str, Any]
) -> ModelCall:
    model_id = params.get("modelId")
    model_id = model_id if isinstance(model_id, str) else ""
    handler = operation.handler
    if handler is None:
        handler = family_for(base_model_id(model_id))
        request = _request_body(params) if handler is not GENERIC else {}
    else:
        request = params
    operation_name = handler.operation_name(request)
    metric_model, price = telemetry.resolve_model(model_id) if model_id else ("", None)
    endpoint_url = client.meta.endpoint_url
    metric_key = ("call", operation_name, endpoint_url, metric_model)
    metric_attributes = telemetry.attribute_sets.get(
        metric_key, lambda: _metric_attributes(operation_name, endpoint_url, metric_model)
    )
    span_attributes = {**metric_attributes, **handler.request_attributes(request)}
    if model_id:
        span_attributes[semconv.GEN_AI_REQUEST_MODEL] = model_id

    # The attempt comes first: the model span is its child. begin_attempt never raises.
    attempt = attempts.begin_attempt(operation.route)
    parent = context.get_current() if attempt is None else _attempt_context(attempt)
    try:
        span = telemetry.tracer.start_span(
            f"{operation_name} {model_id}" if model_id else operation_name,
            context=parent,
            kind=SpanKind.CLIENT,
            attributes=span_attributes,
        )
    except Exception:  # the call goes on untraced; its attempt is still ended with it
        _logger.debug("routewatch: starting a Bedrock span failed", exc_info=True)
        span = INVALID_SPAN
    if telemetry.capture_content and span.is_recording():
        safe_invoke(_capture_request, span, handler, request)
    return ModelCall(
        telemetry=telemetry,
        operation=operation,
        handler=handler,
        span=span,
        parent=parent,
        attempt=attempt,
        metric_key=metric_key,
        metric_attributes=metric_attributes,
        model=metric_model,
        price=price,
    )


def _attempt_context(attempt: attempts.Attempt) -> Context:
    try:
        return attempt.context
    except Exception:  # a broken attempt must not cost the call its span
        _logger.debug("routewatch: attempt without a context", exc_info=True)
        return context.get_current()


def _capture_request(span: Span, handler: Handler, request: Mapping[str, Any]) -> None:
    system = handler.system_instructions(request)
    if system:
        span.set_attribute(semconv.GEN_AI_SYSTEM_INSTRUCTIONS, _json(system))
    messages = handler.input_messages(request)
    if messages:
        span.set_attribute(semconv.GEN_AI_INPUT_MESSAGES, _json(messages))
