"""Patches botocore's and aiobotocore's `_make_api_call` for the Bedrock operations."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from opentelemetry import context
from opentelemetry.instrumentation.utils import is_instrumentation_enabled
from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import TracerProvider

from routewatch.instrumentation.bedrock import coexist
from routewatch.instrumentation.bedrock.bodies import AsyncBody, sync_body
from routewatch.instrumentation.bedrock.call import ModelCall, begin_call
from routewatch.instrumentation.bedrock.operations import OPERATIONS, Result
from routewatch.instrumentation.bedrock.streams import TracedAsyncEventStream, TracedEventStream
from routewatch.instrumentation.bedrock.telemetry import BedrockTelemetry
from routewatch.instrumentation.patcher import wrap
from routewatch.instrumentation.pricing import load_price_table
from routewatch.instrumentation.utils import capture_message_content

_logger = logging.getLogger("routewatch.instrumentation")


class BedrockPatcher:
    """Bedrock Runtime (and Bedrock Agents InvokeAgent) calls of botocore and, when it is
    installed, aiobotocore clients. The price table and
    OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT are read once, by `instrument`."""

    def __init__(self) -> None:
        self._restore: list[Callable[[], None]] = []

    def instrument(
        self,
        tracer_provider: TracerProvider | None,
        meter_provider: MeterProvider | None,
        **kwargs: Any,
    ) -> None:
        from botocore.client import BaseClient  # ImportError: the instrumentor logs and skips

        telemetry = BedrockTelemetry(
            tracer_provider, meter_provider, load_price_table(), capture_message_content()
        )
        self._restore.append(wrap(BaseClient, "_make_api_call", _sync_wrapper(telemetry)))
        try:
            from aiobotocore.client import AioBaseClient
        except Exception as err:  # absent, or broken: boto3 clients are still traced
            _logger.info(
                "routewatch: aiobotocore not importable (%s); async Bedrock clients not traced", err
            )
        else:
            self._restore.append(wrap(AioBaseClient, "_make_api_call", _async_wrapper(telemetry)))
        self._restore.append(coexist.yield_upstream(OPERATIONS))

    def uninstrument(self) -> None:
        while self._restore:
            self._restore.pop()()


def _sync_wrapper(telemetry: BedrockTelemetry) -> Callable[..., Any]:
    def traced_api_call(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        if not is_instrumentation_enabled():
            return wrapped(*args, **kwargs)
        call = begin_call(telemetry, instance, args)
        if call is None:
            return wrapped(*args, **kwargs)
        token = context.attach(call.context)
        try:
            result = wrapped(*args, **kwargs)
        except BaseException as err:
            call.fail(err)
            raise
        finally:
            context.detach(token)
        return _sync_result(call, result)

    return traced_api_call


def _async_wrapper(telemetry: BedrockTelemetry) -> Callable[..., Any]:
    async def traced_api_call(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        if not is_instrumentation_enabled():
            return await wrapped(*args, **kwargs)
        call = begin_call(telemetry, instance, args)
        if call is None:
            return await wrapped(*args, **kwargs)
        token = context.attach(call.context)
        try:
            result = await wrapped(*args, **kwargs)
        except BaseException as err:
            call.fail(err)
            raise
        finally:
            context.detach(token)
        return await _async_result(call, result)

    return traced_api_call


def _take_result(call: ModelCall, result: Any, stream_type: type) -> Any:
    """Hand a stream to its wrapper, or read a message and end the call. Returns the body
    still to be read (InvokeModel), else None."""
    operation = call.operation
    try:
        if isinstance(result, dict):
            if operation.result is Result.EVENTS and operation.stream_key in result:
                result[operation.stream_key] = stream_type(result[operation.stream_key], call)
                return None
            if operation.result is Result.BODY and hasattr(result.get("body"), "read"):
                return result["body"]
            if operation.result is Result.MESSAGE:
                call.read_message(result)
    except Exception:  # the result goes back to the app as it came
        _logger.debug("routewatch: cannot follow this Bedrock result", exc_info=True)
    call.succeed()
    return None


def _sync_result(call: ModelCall, result: Any) -> Any:
    body = _take_result(call, result, TracedEventStream)
    if body is not None:
        try:
            data = body.read()
        except BaseException as err:  # the app would have met it reading the body
            call.fail(err)
            raise
        result["body"] = sync_body(data)
        call.succeed_with_body(data, result)
    return result


async def _async_result(call: ModelCall, result: Any) -> Any:
    body = _take_result(call, result, TracedAsyncEventStream)
    if body is not None:
        try:
            data = await body.read()
        except BaseException as err:
            call.fail(err)
            raise
        result["body"] = AsyncBody(data)
        call.succeed_with_body(data, result)
    return result
