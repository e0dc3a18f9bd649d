"""With opentelemetry-instrumentation-botocore active in the same process, in either order of
instrumentation: one span per Bedrock call (routewatch's), no metric counted twice, upstream
still traces everything else, and each side's uninstrument leaves the other working."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from bedrock_harness import CLIENT_ARGS, Driver, Telemetry
from bedrock_stub import BedrockStub
from botocore.client import BaseClient
from opentelemetry.instrumentation.botocore import AiobotocoreInstrumentor, BotocoreInstrumentor
from opentelemetry.instrumentation.botocore.extensions import (
    _AIOBOTOCORE_EXTENSIONS,
    _BOTOCORE_EXTENSIONS,
)

from routewatch.collector.devservers.bedrock import BedrockServer
from routewatch.instrumentation import semconv

ROUTEWATCH_SCOPE = "routewatch.instrumentation.bedrock"
MODEL = "anthropic.claude-3-5-sonnet-20240620-v1:0"
MESSAGES = [{"role": "user", "content": [{"text": "Hi"}]}]
CLAUDE_BODY = {
    "anthropic_version": "bedrock-2023-05-31",
    "max_tokens": 9,
    "messages": [{"role": "user", "content": "Hi"}],
}


@pytest.fixture
def upstream(telemetry: Telemetry) -> Iterator[Callable[[], None]]:
    instrumentors = (BotocoreInstrumentor(), AiobotocoreInstrumentor())

    def start() -> None:
        for instrumentor in instrumentors:
            instrumentor.instrument(
                tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider
            )

    yield start
    for instrumentor in instrumentors:
        instrumentor.uninstrument()


def _start_both(order: str, upstream: Callable[[], None], instrument: Callable[..., Any]) -> Any:
    if order == "upstream-first":
        upstream()
        return instrument()
    routewatch = instrument()
    upstream()
    return routewatch


ORDERS = ["upstream-first", "routewatch-first"]


@pytest.mark.parametrize("order", ORDERS)
def test_one_span_and_one_count_per_bedrock_call(
    order: str,
    driver: Driver,
    telemetry: Telemetry,
    upstream: Callable[[], None],
    instrument: Callable[..., Any],
) -> None:
    _start_both(order, upstream, instrument)

    driver.converse(modelId=MODEL, messages=MESSAGES)
    driver.converse_stream(modelId=MODEL, messages=MESSAGES)
    driver.invoke(MODEL, CLAUDE_BODY)
    driver.invoke_stream(MODEL, CLAUDE_BODY)

    spans = telemetry.spans()
    assert [s.name for s in spans] == [f"chat {MODEL}"] * 4
    assert {s.instrumentation_scope.name for s in spans} == {ROUTEWATCH_SCOPE}
    # routewatch's semantics: provider name, cached input counted in input tokens
    assert all(s.attributes[semconv.GEN_AI_PROVIDER_NAME] == "aws.bedrock" for s in spans)
    assert all(s.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 19 for s in spans)
    for name in (semconv.GEN_AI_CLIENT_OPERATION_DURATION, semconv.GEN_AI_CLIENT_TOKEN_USAGE):
        assert set(telemetry.metric_scopes(name)) == {ROUTEWATCH_SCOPE}, name
    (duration,) = telemetry.points(semconv.GEN_AI_CLIENT_OPERATION_DURATION)
    assert duration.count == 4


@pytest.mark.parametrize("order", ORDERS)
def test_upstream_still_traces_other_bedrock_operations(
    order: str,
    sync_driver: Any,
    telemetry: Telemetry,
    upstream: Callable[[], None],
    instrument: Callable[..., Any],
) -> None:
    _start_both(order, upstream, instrument)

    with pytest.raises(Exception):  # noqa: B017 - the local server has no ApplyGuardrail; any error will do
        sync_driver.client.apply_guardrail(
            guardrailIdentifier="g",
            guardrailVersion="1",
            source="INPUT",
            content=[{"text": {"text": "x"}}],
        )

    (span,) = telemetry.spans()
    assert span.name == "Bedrock Runtime.ApplyGuardrail"
    assert span.instrumentation_scope.name.startswith("opentelemetry.instrumentation.botocore")


@pytest.mark.parametrize("order", ORDERS)
def test_uninstrumenting_routewatch_gives_bedrock_back_to_upstream(
    order: str,
    sync_driver: Any,
    telemetry: Telemetry,
    upstream: Callable[[], None],
    instrument: Callable[..., Any],
) -> None:
    registries = (dict(_BOTOCORE_EXTENSIONS), dict(_AIOBOTOCORE_EXTENSIONS))
    routewatch = _start_both(order, upstream, instrument)
    routewatch.uninstrument()

    assert (dict(_BOTOCORE_EXTENSIONS), dict(_AIOBOTOCORE_EXTENSIONS)) == registries
    sync_driver.client.converse(modelId=MODEL, messages=MESSAGES)
    (span,) = telemetry.spans()
    assert (
        span.instrumentation_scope.name == "opentelemetry.instrumentation.botocore.bedrock-runtime"
    )


def test_uninstrumenting_both_in_any_order_restores_botocore(
    telemetry: Telemetry,
    upstream: Callable[[], None],
    instrument: Callable[..., Any],
    server: BedrockServer,
) -> None:
    original = BaseClient.__dict__["_make_api_call"]
    routewatch = _start_both("routewatch-first", upstream, instrument)
    routewatch.uninstrument()  # routewatch's wrapper is under upstream's: spliced out
    BotocoreInstrumentor().uninstrument()

    assert BaseClient.__dict__["_make_api_call"] is original
    import boto3

    client = boto3.session.Session().client(
        "bedrock-runtime", endpoint_url=server.url, **CLIENT_ARGS
    )
    client.converse(modelId=MODEL, messages=MESSAGES)
    assert telemetry.spans() == []


@pytest.mark.parametrize("order", ORDERS)
def test_one_span_per_invoke_agent(
    order: str,
    telemetry: Telemetry,
    upstream: Callable[[], None],
    instrument: Callable[..., Any],
    stub: BedrockStub,
) -> None:
    import boto3

    _start_both(order, upstream, instrument)
    client = boto3.session.Session().client(
        "bedrock-agent-runtime", endpoint_url=stub.endpoint_url, **CLIENT_ARGS
    )
    result = client.invoke_agent(agentId="A1", agentAliasId="B1", sessionId="s1", inputText="Hi")
    list(result["completion"])

    (span,) = telemetry.spans()
    assert span.name == "invoke_agent"
    assert span.instrumentation_scope.name == ROUTEWATCH_SCOPE
