"""Routing and Bedrock together, for real: routers declared in OTEL_PYTHON_ROUTEWATCH_ROUTERS
whose attempts are boto3 and aiobotocore calls to the local Bedrock server, which throttles
when told to. The attempt spans are the routing layer's own (no stand-in Attempt)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import aiobotocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from instrumentation.e2e.bedrock_router import (
    ROUTERS,
    AsyncBedrockRouter,
    BedrockRouter,
    Request,
)
from instrumentation.routing.otel_harness import Harness, keyed
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

from routewatch.collector.devservers.bedrock import BedrockServer, bedrock_server
from routewatch.instrumentation import RoutewatchInstrumentor, semconv

CLAUDE = "anthropic.claude-3-5-sonnet-20240620-v1:0"
NOVA = "us.amazon.nova-lite-v1:0"
# One try per call: a throttled request reaches the router, which decides what comes next.
ONE_TRY = Config(retries={"total_max_attempts": 1})


@pytest.fixture(scope="module")
def server() -> Iterator[BedrockServer]:
    with bedrock_server() as running:
        yield running


@pytest.fixture
def harness(server: BedrockServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    server.reset()
    monkeypatch.setenv(semconv.OTEL_PYTHON_ROUTEWATCH_ROUTERS, ROUTERS)
    made = Harness()
    instrumentor = RoutewatchInstrumentor()
    instrumentor.instrument(
        tracer_provider=made.tracer_provider, meter_provider=made.meter_provider
    )
    yield made
    instrumentor.uninstrument()


@pytest.fixture(scope="module")
def client(server: BedrockServer) -> Any:
    return server.client(config=ONE_TRY)


def _attempts(harness: Harness, route: ReadableSpan) -> list[ReadableSpan]:
    return sorted(harness.children(route), key=lambda s: s.start_time or 0)


def _model_call(harness: Harness, attempt: ReadableSpan) -> ReadableSpan:
    (call,) = harness.children(attempt)
    return call


def test_converse_in_a_declared_router_is_the_routes_direct_attempt(
    harness: Harness, client: Any, server: BedrockServer
) -> None:
    BedrockRouter(client).handle(Request("triage", (CLAUDE,)))

    route = harness.span("route triage")
    assert route.parent is None
    assert route.attributes[semconv.HYBRID_ROUTING_ROUTE] == "direct"
    assert route.attributes[semconv.HYBRID_ROUTING_OUTCOME] == "success"
    (attempt,) = _attempts(harness, route)
    assert attempt.name == "attempt direct"
    assert attempt.attributes[semconv.HYBRID_ROUTING_ATTEMPT] == 1
    assert attempt.attributes[semconv.HYBRID_ROUTING_OUTCOME] == "success"
    call = _model_call(harness, attempt)
    assert call.name == f"chat {CLAUDE}"
    assert call.kind == SpanKind.CLIENT
    assert call.attributes[semconv.GEN_AI_PROVIDER_NAME] == "aws.bedrock"
    assert call.attributes[semconv.SERVER_PORT] == int(server.url.rsplit(":", 1)[1])
    assert call.context.trace_id == route.context.trace_id

    # Cost carries the route it was spent on; every routing metric counted once.
    (cost,) = harness.points(semconv.HYBRID_ROUTING_COST)
    assert dict(cost.attributes) == {
        semconv.GEN_AI_REQUEST_MODEL: CLAUDE,
        semconv.HYBRID_ROUTING_ROUTE: "direct",
        semconv.HYBRID_ROUTING_OPERATION: "triage",
    }
    assert cost.value > 0
    verdict = {
        semconv.HYBRID_ROUTING_OPERATION: "triage",
        semconv.HYBRID_ROUTING_ROUTE: "direct",
        semconv.HYBRID_ROUTING_OUTCOME: "success",
    }
    assert harness.counts(semconv.HYBRID_ROUTING_ATTEMPTS) == {keyed(verdict): 1}
    assert harness.counts(semconv.HYBRID_ROUTING_REQUEST_DURATION) == {keyed(verdict): 1}


def test_a_throttled_call_is_a_failed_attempt_and_the_retry_serves_the_route(
    harness: Harness, client: Any, server: BedrockServer
) -> None:
    server.inject("throttling", times=1, operation="converse")
    BedrockRouter(client).handle(Request("triage", (CLAUDE, NOVA)))

    route = harness.span("route triage")
    assert route.attributes[semconv.HYBRID_ROUTING_ROUTE] == "direct"
    assert route.attributes[semconv.HYBRID_ROUTING_OUTCOME] == "success"
    first, second = _attempts(harness, route)
    assert first.attributes[semconv.HYBRID_ROUTING_ATTEMPT] == 1
    assert first.attributes[semconv.HYBRID_ROUTING_OUTCOME] == "error"
    assert first.attributes[semconv.ERROR_TYPE] == "ThrottlingException"
    assert first.status.status_code == StatusCode.ERROR
    throttled = _model_call(harness, first)
    assert throttled.name == f"chat {CLAUDE}"
    assert throttled.attributes[semconv.ERROR_TYPE] == "ThrottlingException"
    assert second.attributes[semconv.HYBRID_ROUTING_ATTEMPT] == 2
    assert second.attributes[semconv.HYBRID_ROUTING_OUTCOME] == "success"
    # The same path again is a retry, not a fallback.
    assert semconv.HYBRID_ROUTING_FALLBACK_FROM not in (second.attributes or {})
    assert harness.points(semconv.HYBRID_ROUTING_FALLBACKS) == []
    assert _model_call(harness, second).name == f"chat {NOVA}"


def test_a_router_that_gives_up_is_an_error_route(
    harness: Harness, client: Any, server: BedrockServer
) -> None:
    server.inject("throttling", times=0, operation="converse")  # until cleared
    with pytest.raises(ClientError, match="ThrottlingException"):
        BedrockRouter(client).handle(Request("triage", (CLAUDE,)))

    route = harness.span("route triage")
    assert route.status.status_code == StatusCode.ERROR
    assert route.attributes[semconv.HYBRID_ROUTING_OUTCOME] == "error"
    assert route.attributes[semconv.ERROR_TYPE] == "ThrottlingException"
    (attempt,) = _attempts(harness, route)
    assert attempt.attributes[semconv.ERROR_TYPE] == "ThrottlingException"


def test_a_stream_read_inside_the_router_ends_its_attempt_before_the_route(
    harness: Harness, client: Any
) -> None:
    text = BedrockRouter(client).handle_stream(Request("summarise", (NOVA,)))

    assert text
    route = harness.span("route summarise")
    (attempt,) = _attempts(harness, route)
    call = _model_call(harness, attempt)
    assert call.name == f"chat {NOVA}"
    assert call.attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] > 0
    assert attempt.attributes[semconv.HYBRID_ROUTING_OUTCOME] == "success"
    assert call.end_time is not None and attempt.end_time is not None
    assert route.end_time is not None
    assert call.end_time <= attempt.end_time <= route.end_time


async def test_aiobotocore_in_an_async_router(harness: Harness, server: BedrockServer) -> None:
    server.inject("throttling", times=1, operation="converse")
    session = aiobotocore.session.get_session()
    async with session.create_client(
        "bedrock-runtime",
        endpoint_url=server.url,
        region_name=server.region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=ONE_TRY,
    ) as async_client:
        result = await AsyncBedrockRouter(async_client).handle(Request("triage", (CLAUDE, NOVA)))

    assert result["stopReason"] == "end_turn"
    route = harness.span("route triage")
    assert route.attributes[semconv.HYBRID_ROUTING_ROUTE] == "direct"
    first, second = _attempts(harness, route)
    assert first.attributes[semconv.ERROR_TYPE] == "ThrottlingException"
    assert _model_call(harness, first).attributes[semconv.ERROR_TYPE] == "ThrottlingException"
    assert second.attributes[semconv.HYBRID_ROUTING_OUTCOME] == "success"
    served = _model_call(harness, second)
    assert served.name == f"chat {NOVA}"
    assert served.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] > 0
    assert harness.counts(semconv.HYBRID_ROUTING_ATTEMPTS) == {
        keyed(
            {
                semconv.HYBRID_ROUTING_OPERATION: "triage",
                semconv.HYBRID_ROUTING_ROUTE: "direct",
                semconv.HYBRID_ROUTING_OUTCOME: outcome,
            }
        ): 1
        for outcome in ("error", "success")
    }
