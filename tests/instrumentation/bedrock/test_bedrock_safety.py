"""The instrumentation never gets in the app's way: uninstrument restores every callable,
instrumenting twice adds nothing, a tracer that records nothing works, suppression works."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from aiobotocore.client import AioBaseClient
from bedrock_harness import OUTPUT, Driver, Telemetry
from bedrock_stub import BedrockStub, Fault
from botocore.client import BaseClient
from botocore.exceptions import ClientError
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.trace import NoOpTracerProvider, StatusCode

from routewatch.instrumentation import RoutewatchInstrumentor, semconv

MODEL = "amazon.nova-micro-v1:0"
MESSAGES = [{"role": "user", "content": [{"text": "Hi"}]}]


def _every_operation(driver: Driver) -> None:
    driver.converse(modelId=MODEL, messages=MESSAGES)
    driver.converse_stream(modelId=MODEL, messages=MESSAGES)
    driver.invoke(MODEL, {"messages": [{"role": "user", "content": [{"text": "Hi"}]}]})
    driver.invoke_stream(MODEL, {"messages": [{"role": "user", "content": [{"text": "Hi"}]}]})


def test_uninstrument_restores_the_original_callables(telemetry: Telemetry) -> None:
    originals = (BaseClient.__dict__["_make_api_call"], AioBaseClient.__dict__["_make_api_call"])
    instrumentor = RoutewatchInstrumentor()
    instrumentor.instrument(tracer_provider=telemetry.tracer_provider)
    assert BaseClient.__dict__["_make_api_call"] is not originals[0]
    assert AioBaseClient.__dict__["_make_api_call"] is not originals[1]

    instrumentor.uninstrument()

    assert BaseClient.__dict__["_make_api_call"] is originals[0]
    assert AioBaseClient.__dict__["_make_api_call"] is originals[1]


def test_nothing_is_traced_after_uninstrument(driver: Driver, telemetry: Telemetry) -> None:
    instrumentor = RoutewatchInstrumentor()
    instrumentor.instrument(
        tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider
    )
    instrumentor.uninstrument()

    _every_operation(driver)

    assert telemetry.spans() == []
    assert telemetry.points(semconv.GEN_AI_CLIENT_OPERATION_DURATION) == []


def test_instrumenting_twice_adds_no_second_span(
    driver: Driver, telemetry: Telemetry, instrument: Callable[..., Any]
) -> None:
    instrument()
    instrument()
    RoutewatchInstrumentor().instrument(tracer_provider=telemetry.tracer_provider)

    _every_operation(driver)

    assert len(telemetry.spans()) == 4
    (duration,) = telemetry.points(semconv.GEN_AI_CLIENT_OPERATION_DURATION)
    assert duration.count == 4


def test_a_tracer_that_records_nothing_works(
    driver: Driver, telemetry: Telemetry, instrument: Callable[..., Any]
) -> None:
    instrument(tracer_provider=NoOpTracerProvider())

    _every_operation(driver)

    assert telemetry.spans() == []
    (duration,) = telemetry.points(semconv.GEN_AI_CLIENT_OPERATION_DURATION)
    assert duration.count == 4  # metrics do not depend on spans
    assert telemetry.points(semconv.HYBRID_ROUTING_COST)


def test_suppressed_instrumentation_records_nothing(
    driver: Driver, telemetry: Telemetry, instrumented: Any
) -> None:
    with suppress_instrumentation():
        _every_operation(driver)

    assert telemetry.spans() == []
    assert telemetry.points(semconv.GEN_AI_CLIENT_OPERATION_DURATION) == []


def test_a_body_that_is_not_json_is_traced_and_fails_as_before(
    sync_driver: Any, telemetry: Telemetry, instrumented: Any
) -> None:
    model = "anthropic.claude-3-haiku-20240307-v1:0"
    with pytest.raises(ClientError, match="Malformed input request"):
        sync_driver.client.invoke_model(modelId=model, body=b"{broken")

    span = telemetry.span()
    assert span.name == f"chat {model}"
    assert span.attributes[semconv.ERROR_TYPE] == "ValidationException"


def test_a_file_like_body_is_left_for_botocore_to_send(
    sync_driver: Any, telemetry: Telemetry, instrumented: Any
) -> None:
    body = io.BytesIO(b'{"prompt": "Hi", "max_gen_len": 5}')
    result = sync_driver.client.invoke_model(modelId="meta.llama3-8b-instruct-v1:0", body=body)

    assert json.loads(result["body"].read())["generation"]
    span = telemetry.span()
    assert semconv.GEN_AI_REQUEST_MAX_TOKENS not in span.attributes  # the body was not read
    # The server capped its answer at the body's max_gen_len: botocore sent the body whole.
    assert span.attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 5 < OUTPUT


def test_a_body_cut_short_fails_the_span_and_reaches_the_app(
    stub_driver: Driver, stub: BedrockStub, telemetry: Telemetry, instrumented: Any
) -> None:
    stub.fail_next(Fault(truncate_body=True))  # the shared server always answers whole bodies
    with pytest.raises(Exception) as raised:
        stub_driver.invoke(MODEL, {"messages": []})

    span = telemetry.span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes[semconv.ERROR_TYPE] == type(raised.value).__qualname__
