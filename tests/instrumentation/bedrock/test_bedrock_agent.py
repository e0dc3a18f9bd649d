"""Bedrock Agents: InvokeAgent is an `invoke_agent` span and an attempt on the `agent` path."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from bedrock_harness import CLIENT_ARGS, INPUT, OUTPUT, Telemetry
from bedrock_stub import TEXT, BedrockStub, Fault
from opentelemetry.trace import SpanKind, StatusCode

from routewatch.instrumentation import route, semconv

PARAMS = {
    "agentId": "AGENT123",
    "agentAliasId": "ALIAS1",
    "sessionId": "session-1",
    "inputText": "Hi",
}


@pytest.fixture(scope="module")
def agent_client(stub: BedrockStub) -> Any:
    return boto3.session.Session().client(
        "bedrock-agent-runtime", endpoint_url=stub.endpoint_url, **CLIENT_ARGS
    )


def test_invoke_agent_span(
    agent_client: Any, telemetry: Telemetry, instrumented: Any, stub: BedrockStub
) -> None:
    result = agent_client.invoke_agent(**PARAMS)
    assert telemetry.spans() == []  # open until the completion stream is read
    text = "".join(
        event["chunk"]["bytes"].decode() for event in result["completion"] if "chunk" in event
    )

    assert text == "".join(TEXT)
    span = telemetry.span()
    assert span.name == "invoke_agent"
    assert span.kind is SpanKind.CLIENT
    assert dict(span.attributes) == {
        semconv.GEN_AI_OPERATION_NAME: "invoke_agent",
        semconv.GEN_AI_PROVIDER_NAME: "aws.bedrock",
        semconv.GEN_AI_AGENT_ID: "AGENT123",
        semconv.GEN_AI_CONVERSATION_ID: "session-1",
        semconv.SERVER_ADDRESS: "127.0.0.1",
        semconv.SERVER_PORT: stub.port,
        semconv.GEN_AI_USAGE_INPUT_TOKENS: INPUT,
        semconv.GEN_AI_USAGE_OUTPUT_TOKENS: OUTPUT,
    }
    (duration,) = telemetry.points(semconv.GEN_AI_CLIENT_OPERATION_DURATION)
    assert duration.attributes[semconv.GEN_AI_OPERATION_NAME] == "invoke_agent"
    assert semconv.GEN_AI_REQUEST_MODEL not in duration.attributes
    assert telemetry.points(semconv.HYBRID_ROUTING_COST) == []  # no model, no price


def test_invoke_agent_is_an_attempt_on_the_agent_path(
    agent_client: Any, telemetry: Telemetry, instrumented: Any, stub: BedrockStub
) -> None:
    @route(operation="ask_agent")
    def ask() -> None:
        agent_client.invoke_agent(**PARAMS)

    stub.fail_next(Fault(error="throttling"))
    with pytest.raises(Exception, match="ThrottlingException"):
        ask()

    spans = {span.name: span for span in telemetry.spans()}
    attempt, call = spans["attempt agent"], spans["invoke_agent"]
    assert attempt.parent is not None
    assert attempt.parent.span_id == spans["route ask_agent"].context.span_id
    assert call.parent is not None
    assert call.parent.span_id == attempt.context.span_id
    assert attempt.attributes[semconv.HYBRID_ROUTING_OUTCOME] == "error"
    assert attempt.attributes[semconv.ERROR_TYPE] == "ThrottlingException"
    assert call.status.status_code is StatusCode.ERROR
    assert call.attributes[semconv.ERROR_TYPE] == "ThrottlingException"
