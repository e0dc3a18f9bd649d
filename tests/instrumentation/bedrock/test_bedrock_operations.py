"""Every Bedrock operation for every model family, with boto3 and aiobotocore clients:
span name, kind and attributes per the GenAI semantic conventions, and the metrics."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from bedrock_harness import CACHE_READ, CACHE_WRITE, INPUT, OUTPUT, Driver, Telemetry, port_of
from botocore.exceptions import ClientError
from opentelemetry.trace import SpanKind, StatusCode

from routewatch.collector.devservers.bedrock import BedrockServer
from routewatch.instrumentation import semconv

STOP = "gen_ai.request.stop_sequences"


@dataclass(frozen=True)
class Case:
    model_id: str
    body: dict[str, Any]
    operation: str
    request: dict[str, Any]  # expected gen_ai.request.* attributes
    priced_as: str
    input_tokens: int = INPUT  # expected gen_ai.usage.input_tokens (with cached input)
    cache: tuple[int, int] | None = None
    finish: str = "stop"
    # Where the app finds the response id, in the InvokeModel body / the stream's chunks.
    response_id: Callable[[Any], str] | None = None
    stream_response_id: Callable[[list[Any]], str] | None = None
    response_model: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _request(
    max_tokens: int = 200, top_k: bool = True, stop: tuple[str, ...] | None = ("END",)
) -> dict[str, Any]:
    expected: dict[str, Any] = {
        semconv.GEN_AI_REQUEST_MAX_TOKENS: max_tokens,
        semconv.GEN_AI_REQUEST_TEMPERATURE: 0.5,
        semconv.GEN_AI_REQUEST_TOP_P: 0.9,
    }
    if top_k:
        expected[semconv.GEN_AI_REQUEST_TOP_K] = 40
    if stop:
        expected[STOP] = stop
    return expected


FAMILY_CASES = [
    Case(
        "anthropic.claude-3-5-sonnet-20240620-v1:0",
        {
            "anthropic_version": "bedrock-2023-05-31",
            "max_tokens": 200,
            "temperature": 0.5,
            "top_p": 0.9,
            "top_k": 40,
            "stop_sequences": ["END"],
            "system": "Be brief.",
            "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}],
        },
        "chat",
        _request(),
        "anthropic.claude-3-5-sonnet-20240620-v1:0",
        INPUT + CACHE_READ + CACHE_WRITE,
        (CACHE_READ, CACHE_WRITE),
        "end_turn",
        lambda body: body["id"],
        lambda chunks: chunks[0]["message"]["id"],
        "claude-3-5-sonnet-20240620",
    ),
    Case(
        "us.amazon.nova-lite-v1:0",
        {
            "schemaVersion": "messages-v1",
            "system": [{"text": "Be brief."}],
            "messages": [{"role": "user", "content": [{"text": "Hi"}]}],
            "inferenceConfig": {
                "max_new_tokens": 200,
                "temperature": 0.5,
                "top_p": 0.9,
                "top_k": 40,
                "stopSequences": ["END"],
            },
        },
        "chat",
        _request(),
        "amazon.nova-lite-v1:0",
        INPUT + CACHE_READ + CACHE_WRITE,
        (CACHE_READ, CACHE_WRITE),
        "end_turn",
    ),
    Case(
        "amazon.titan-text-express-v1",
        {
            "inputText": "Hi",
            "textGenerationConfig": {
                "maxTokenCount": 200,
                "temperature": 0.5,
                "topP": 0.9,
                "stopSequences": ["END"],
            },
        },
        "text_completion",
        _request(top_k=False),
        "amazon.titan-text-express-v1",
        finish="FINISH",
    ),
    Case(
        "eu.meta.llama3-2-3b-instruct-v1:0",
        {"prompt": "Hi", "max_gen_len": 200, "temperature": 0.5, "top_p": 0.9},
        "text_completion",
        _request(top_k=False, stop=None),
        "meta.llama3-2-3b-instruct-v1:0",
    ),
    Case(
        "mistral.mistral-7b-instruct-v0:2",
        {
            "prompt": "<s>[INST] Hi [/INST]",
            "max_tokens": 200,
            "temperature": 0.5,
            "top_p": 0.9,
            "top_k": 40,
            "stop": ["END"],
        },
        "text_completion",
        _request(),
        "mistral.mistral-7b-instruct-v0:2",
    ),
    Case(
        "cohere.command-r-plus-v1:0",
        {
            "message": "Hi",
            "chat_history": [{"role": "USER", "message": "Earlier"}],
            "preamble": "Be brief.",
            "max_tokens": 200,
            "temperature": 0.5,
            "p": 0.9,
            "k": 40,
            "stop_sequences": ["END"],
        },
        "chat",
        _request(),
        "cohere.command-r-plus-v1:0",
        finish="COMPLETE",
        response_id=lambda body: body["response_id"],
        stream_response_id=lambda chunks: chunks[-1]["response"]["response_id"],
    ),
    Case(
        "cohere.command-text-v14",
        {
            "prompt": "Hi",
            "max_tokens": 200,
            "temperature": 0.5,
            "p": 0.9,
            "k": 40,
            "stop_sequences": ["END"],
        },
        "text_completion",
        _request(),
        "cohere.command-text-v14",
        finish="COMPLETE",
        response_id=lambda body: body["id"],
    ),
]
IDS = [case.model_id for case in FAMILY_CASES]


def _assert_model_span(
    telemetry: Telemetry, case: Case, port: int, response_id: str | None
) -> None:
    span = telemetry.span()
    assert span.name == f"{case.operation} {case.model_id}"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    attributes = dict(span.attributes or {})
    expected = {
        semconv.GEN_AI_OPERATION_NAME: case.operation,
        semconv.GEN_AI_PROVIDER_NAME: "aws.bedrock",
        semconv.GEN_AI_REQUEST_MODEL: case.model_id,
        semconv.SERVER_ADDRESS: "127.0.0.1",
        semconv.SERVER_PORT: port,
        semconv.GEN_AI_RESPONSE_FINISH_REASONS: (case.finish,),
        semconv.GEN_AI_USAGE_INPUT_TOKENS: case.input_tokens,
        semconv.GEN_AI_USAGE_OUTPUT_TOKENS: OUTPUT,
        **case.request,
    }
    if case.cache:
        expected[semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = case.cache[0]
        expected[semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] = case.cache[1]
    if response_id:
        expected[semconv.GEN_AI_RESPONSE_ID] = response_id
    if case.response_model:
        expected[semconv.GEN_AI_RESPONSE_MODEL] = case.response_model
    assert attributes == expected
    # No prompt or response text unless the user opts in.
    assert semconv.GEN_AI_INPUT_MESSAGES not in attributes


def _assert_metrics(telemetry: Telemetry, case: Case, stream: bool) -> None:
    metric_attributes = {
        semconv.GEN_AI_OPERATION_NAME: case.operation,
        semconv.GEN_AI_PROVIDER_NAME: "aws.bedrock",
        semconv.GEN_AI_REQUEST_MODEL: case.priced_as,
        semconv.SERVER_ADDRESS: "127.0.0.1",
    }
    (duration,) = telemetry.points(semconv.GEN_AI_CLIENT_OPERATION_DURATION)
    assert duration.count == 1
    assert metric_attributes.items() <= dict(duration.attributes).items()
    tokens = {
        p.attributes[semconv.GEN_AI_TOKEN_TYPE]: p
        for p in telemetry.points(semconv.GEN_AI_CLIENT_TOKEN_USAGE)
    }
    assert tokens["input"].sum == case.input_tokens
    assert tokens["output"].sum == OUTPUT
    assert tokens["input"].count == tokens["output"].count == 1
    first_chunk = telemetry.points(semconv.GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK)
    if stream:
        assert [p.count for p in first_chunk] == [1]
        assert first_chunk[0].sum <= duration.sum
    else:
        assert first_chunk == []
    (cost,) = telemetry.points(semconv.HYBRID_ROUTING_COST)
    assert dict(cost.attributes) == {semconv.GEN_AI_REQUEST_MODEL: case.priced_as}
    assert cost.value > 0


@pytest.mark.parametrize("case", FAMILY_CASES, ids=IDS)
def test_invoke_model(
    case: Case, driver: Driver, telemetry: Telemetry, instrumented: Any, server: BedrockServer
) -> None:
    body = driver.invoke(case.model_id, case.body)

    assert body  # the app still reads the whole body
    response_id = case.response_id(body) if case.response_id else None
    _assert_model_span(telemetry, case, port_of(server.url), response_id)
    _assert_metrics(telemetry, case, stream=False)


@pytest.mark.parametrize("case", FAMILY_CASES, ids=IDS)
def test_invoke_model_with_response_stream(
    case: Case, driver: Driver, telemetry: Telemetry, instrumented: Any, server: BedrockServer
) -> None:
    chunks = driver.invoke_stream(case.model_id, case.body)

    assert chunks  # every chunk reaches the app
    response_id = case.stream_response_id(chunks) if case.stream_response_id else None
    _assert_model_span(telemetry, case, port_of(server.url), response_id)
    _assert_metrics(telemetry, case, stream=True)


CONVERSE_MODELS = [
    "anthropic.claude-3-5-sonnet-20240620-v1:0",
    "us.anthropic.claude-3-7-sonnet-20250219-v1:0",
    "global.anthropic.claude-sonnet-4-20250514-v1:0",
    "apac.amazon.nova-pro-v1:0",
    "arn:aws:bedrock:us-east-1::foundation-model/meta.llama3-1-70b-instruct-v1:0",
    "arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.mistral.mistral-large-2407-v1:0",
]
CONVERSE_PARAMS: dict[str, Any] = {
    "system": [{"text": "Be brief."}],
    "messages": [{"role": "user", "content": [{"text": "Hi"}]}],
    "inferenceConfig": {
        "maxTokens": 300,
        "temperature": 0.5,
        "topP": 0.9,
        "stopSequences": ["END"],
    },
    "additionalModelRequestFields": {"top_k": 40},
}


def _converse_case(model_id: str) -> Case:
    base = model_id.rpartition("/")[2]
    for prefix in ("us.", "eu.", "apac.", "global."):
        base = base.removeprefix(prefix)
    return Case(
        model_id,
        {},
        "chat",
        _request(max_tokens=300),
        base,
        INPUT + CACHE_READ + CACHE_WRITE,
        (CACHE_READ, CACHE_WRITE),
        "end_turn",
    )


@pytest.mark.parametrize("model_id", CONVERSE_MODELS)
def test_converse(
    model_id: str, driver: Driver, telemetry: Telemetry, instrumented: Any, server: BedrockServer
) -> None:
    result = driver.converse(modelId=model_id, **CONVERSE_PARAMS)

    assert result["output"]["message"]["content"][0]["text"]
    case = _converse_case(model_id)
    _assert_model_span(telemetry, case, port_of(server.url), None)
    _assert_metrics(telemetry, case, stream=False)


@pytest.mark.parametrize("model_id", CONVERSE_MODELS[:2] + CONVERSE_MODELS[-1:])
def test_converse_stream(
    model_id: str, driver: Driver, telemetry: Telemetry, instrumented: Any, server: BedrockServer
) -> None:
    events = driver.converse_stream(modelId=model_id, **CONVERSE_PARAMS)

    assert [next(iter(e)) for e in events] == [
        "messageStart",
        "contentBlockDelta",
        "contentBlockDelta",
        "contentBlockStop",
        "messageStop",
        "metadata",
    ]
    case = _converse_case(model_id)
    _assert_model_span(telemetry, case, port_of(server.url), None)
    _assert_metrics(telemetry, case, stream=True)


def test_unknown_model_is_other_on_metrics_but_named_on_the_span(
    stub_driver: Driver, telemetry: Telemetry, instrumented: Any
) -> None:
    # The devserver rejects a family it does not know, as Bedrock does: the stub answers.
    model_id = "acme.unknown-model-v1:0"
    stub_driver.invoke(model_id, {"prompt": "Hi"})

    span = telemetry.span()
    assert span.name == f"chat {model_id}"
    assert span.attributes[semconv.GEN_AI_REQUEST_MODEL] == model_id
    # Token counts come from Bedrock's response headers when the body is not understood.
    assert span.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == INPUT
    assert span.attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == OUTPUT
    for name in (semconv.GEN_AI_CLIENT_OPERATION_DURATION, semconv.GEN_AI_CLIENT_TOKEN_USAGE):
        assert {p.attributes[semconv.GEN_AI_REQUEST_MODEL] for p in telemetry.points(name)} == {
            "_OTHER"
        }
    assert telemetry.points(semconv.HYBRID_ROUTING_COST) == []


def test_metric_bucket_boundaries_are_the_specs(
    driver: Driver, telemetry: Telemetry, instrumented: Any
) -> None:
    driver.converse_stream(modelId=CONVERSE_MODELS[0], **CONVERSE_PARAMS)

    for name, buckets in (
        (semconv.GEN_AI_CLIENT_OPERATION_DURATION, semconv.DURATION_BUCKETS),
        (semconv.GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK, semconv.DURATION_BUCKETS),
        (semconv.GEN_AI_CLIENT_TOKEN_USAGE, semconv.TOKEN_BUCKETS),
    ):
        for point in telemetry.points(name):
            assert tuple(point.explicit_bounds) == tuple(float(b) for b in buckets), name


def test_metric_units(driver: Driver, telemetry: Telemetry, instrumented: Any) -> None:
    driver.converse(modelId=CONVERSE_MODELS[0], **CONVERSE_PARAMS)

    units = {
        metric.name: metric.unit
        for rm in telemetry.reader.get_metrics_data().resource_metrics
        for sm in rm.scope_metrics
        for metric in sm.metrics
    }
    assert units == {
        semconv.GEN_AI_CLIENT_OPERATION_DURATION: "s",
        semconv.GEN_AI_CLIENT_TOKEN_USAGE: "{token}",
        semconv.HYBRID_ROUTING_COST: "USD",
    }


def test_other_operations_are_not_traced(
    sync_driver: Any, telemetry: Telemetry, instrumented: Any
) -> None:
    with pytest.raises(ClientError):  # the local server has no ApplyGuardrail
        sync_driver.client.apply_guardrail(
            guardrailIdentifier="g",
            guardrailVersion="1",
            source="INPUT",
            content=[{"text": {"text": "x"}}],
        )
    assert telemetry.spans() == []
    assert telemetry.points(semconv.GEN_AI_CLIENT_OPERATION_DURATION) == []
