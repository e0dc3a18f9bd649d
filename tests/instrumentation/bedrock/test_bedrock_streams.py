"""Each way a stream can end ends its span exactly once, for boto3 and aiobotocore streams:
read to the end, closed, iteration stopped, broken mid-way, abandoned and garbage collected."""

from __future__ import annotations

import asyncio
import gc
import json
from typing import Any

import pytest
from bedrock_harness import AsyncDriver, SyncDriver, Telemetry
from opentelemetry.trace import StatusCode

from routewatch.collector.devservers.bedrock import BedrockServer
from routewatch.instrumentation import semconv

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
PARAMS: dict[str, Any] = {
    "modelId": MODEL,
    "messages": [{"role": "user", "content": [{"text": "Hi"}]}],
}
CLAUDE_BODY = json.dumps(
    {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 50,
        "messages": [{"role": "user", "content": "Hi"}],
    }
)


def _ended_once(telemetry: Telemetry) -> Any:
    """The one finished span, after making sure nothing ends it a second time."""
    gc.collect()
    span = telemetry.span()
    (duration,) = telemetry.points(semconv.GEN_AI_CLIENT_OPERATION_DURATION)
    assert duration.count == 1
    return span


# --- boto3 ------------------------------------------------------------------------------


def test_sync_stream_read_to_the_end(
    sync_driver: SyncDriver, telemetry: Telemetry, instrumented: Any
) -> None:
    stream = sync_driver.client.converse_stream(**PARAMS)["stream"]
    assert telemetry.spans() == []  # the span stays open while the stream is read
    events = list(stream)

    assert len(events) == 6
    span = _ended_once(telemetry)
    assert span.status.status_code is StatusCode.UNSET
    assert span.attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 7


def test_sync_stream_closed_early(
    sync_driver: SyncDriver, telemetry: Telemetry, instrumented: Any
) -> None:
    stream = sync_driver.client.converse_stream(**PARAMS)["stream"]
    iterator = iter(stream)
    next(iterator)
    stream.close()

    span = _ended_once(telemetry)
    assert span.status.status_code is StatusCode.UNSET
    assert semconv.ERROR_TYPE not in span.attributes
    assert semconv.GEN_AI_USAGE_OUTPUT_TOKENS not in span.attributes  # never arrived
    assert len(telemetry.points(semconv.GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK)) == 1
    del iterator


def test_sync_stream_iteration_stopped(
    sync_driver: SyncDriver, telemetry: Telemetry, instrumented: Any
) -> None:
    result = sync_driver.client.invoke_model_with_response_stream(modelId=MODEL, body=CLAUDE_BODY)
    for event in result["body"]:
        first = json.loads(event["chunk"]["bytes"])
        break

    span = _ended_once(telemetry)
    assert span.status.status_code is StatusCode.UNSET
    # Read from the first chunk, the only one the app took.
    assert span.attributes[semconv.GEN_AI_RESPONSE_ID] == first["message"]["id"]


def test_sync_stream_abandoned_is_ended_when_collected(
    sync_driver: SyncDriver, telemetry: Telemetry, instrumented: Any
) -> None:
    result = sync_driver.client.converse_stream(**PARAMS)
    assert telemetry.spans() == []
    del result
    gc.collect()

    span = _ended_once(telemetry)
    assert span.status.status_code is StatusCode.UNSET


# Faults of the local server: a stream that breaks after `after_chunks` events.
CUT = {"mode": "cut", "after_chunks": 2}
EXCEPTION = {"mode": "exception", "after_chunks": 2}
THROTTLED = {"mode": "exception", "after_chunks": 1, "stream_exception": "throttlingException"}


@pytest.mark.parametrize(
    ("fault", "error_type"),
    [
        (CUT, "ProtocolError"),
        (EXCEPTION, "modelStreamErrorException"),
        (THROTTLED, "throttlingException"),
    ],
    ids=["connection-dropped", "exception-event", "throttled-mid-stream"],
)
def test_sync_stream_broken_midway(
    fault: dict[str, Any],
    error_type: str,
    sync_driver: SyncDriver,
    server: BedrockServer,
    telemetry: Telemetry,
    instrumented: Any,
) -> None:
    server.inject("stream_break", **fault)
    stream = sync_driver.client.converse_stream(**PARAMS)["stream"]
    received = []
    with pytest.raises(Exception) as raised:
        for event in stream:
            received.append(event)

    assert len(received) in (1, 2)
    span = _ended_once(telemetry)
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes[semconv.ERROR_TYPE] == error_type
    (duration,) = telemetry.points(semconv.GEN_AI_CLIENT_OPERATION_DURATION)
    assert duration.attributes[semconv.ERROR_TYPE] == error_type
    assert raised.value is not None
    del stream
    gc.collect()
    assert len(telemetry.spans()) == 1


def test_sync_invoke_stream_broken_midway(
    sync_driver: SyncDriver, server: BedrockServer, telemetry: Telemetry, instrumented: Any
) -> None:
    server.inject("stream_break", after_chunks=3, stream_exception="internalServerException")
    result = sync_driver.client.invoke_model_with_response_stream(modelId=MODEL, body=CLAUDE_BODY)
    with pytest.raises(Exception, match="internalServerException"):
        list(result["body"])

    span = _ended_once(telemetry)
    assert span.attributes[semconv.ERROR_TYPE] == "internalServerException"


def test_stream_wrapper_is_the_event_stream(sync_driver: SyncDriver, instrumented: Any) -> None:
    from botocore.eventstream import EventStream

    stream = sync_driver.client.converse_stream(**PARAMS)["stream"]
    assert isinstance(stream, EventStream)
    list(stream)


# --- aiobotocore -------------------------------------------------------------------------


def test_async_stream_read_to_the_end(
    async_driver: AsyncDriver, telemetry: Telemetry, instrumented: Any
) -> None:
    async def read() -> int:
        stream = (await async_driver.client.converse_stream(**PARAMS))["stream"]
        assert telemetry.spans() == []
        return len([event async for event in stream])

    assert async_driver.run(read()) == 6
    span = _ended_once(telemetry)
    assert span.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 19


def test_async_stream_closed_early(
    async_driver: AsyncDriver, telemetry: Telemetry, instrumented: Any
) -> None:
    async def read() -> None:
        stream = (await async_driver.client.converse_stream(**PARAMS))["stream"]
        events = stream.__aiter__()
        await events.__anext__()
        stream.close()
        await events.aclose()

    async_driver.run(read())
    span = _ended_once(telemetry)
    assert span.status.status_code is StatusCode.UNSET
    assert semconv.GEN_AI_USAGE_OUTPUT_TOKENS not in span.attributes


def test_async_stream_iteration_stopped(
    async_driver: AsyncDriver, telemetry: Telemetry, instrumented: Any
) -> None:
    async def read() -> None:
        result = await async_driver.client.invoke_model_with_response_stream(
            modelId=MODEL, body=CLAUDE_BODY
        )
        async for event in result["body"]:
            first.update(json.loads(event["chunk"]["bytes"]))
            break
        # asyncio closes an abandoned async generator from its event loop.
        await asyncio.sleep(0)

    first: dict[str, Any] = {}
    async_driver.run(read())
    span = _ended_once(telemetry)
    assert span.status.status_code is StatusCode.UNSET
    assert span.attributes[semconv.GEN_AI_RESPONSE_ID] == first["message"]["id"]


def test_async_stream_abandoned_is_ended_when_collected(
    async_driver: AsyncDriver, telemetry: Telemetry, instrumented: Any
) -> None:
    async def call() -> None:
        await async_driver.client.converse_stream(**PARAMS)

    async_driver.run(call())
    gc.collect()

    span = _ended_once(telemetry)
    assert span.status.status_code is StatusCode.UNSET


@pytest.mark.parametrize(
    ("fault", "error_type"),
    [(CUT, "ClientPayloadError"), (EXCEPTION, "modelStreamErrorException")],
    ids=["connection-dropped", "exception-event"],
)
def test_async_stream_broken_midway(
    fault: dict[str, Any],
    error_type: str,
    async_driver: AsyncDriver,
    server: BedrockServer,
    telemetry: Telemetry,
    instrumented: Any,
) -> None:
    server.inject("stream_break", **fault)

    async def read() -> None:
        stream = (await async_driver.client.converse_stream(**PARAMS))["stream"]
        async for _event in stream:
            pass

    with pytest.raises(Exception):  # noqa: B017 - the app's own error, unchanged
        async_driver.run(read())
    span = _ended_once(telemetry)
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes[semconv.ERROR_TYPE] == error_type
