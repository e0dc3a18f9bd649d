"""The Bedrock extension's side of the routing contract (routing/attempts.py): an attempt on
path `direct` begins before the model span, parents it, carries the cost's route attributes,
and ends exactly once with the call's outcome (for a stream: when the stream ends).

The routing layer is another engineer's; until it lands, `begin_attempt` returns None. These
tests put a recording implementation of the `Attempt` protocol in its place.
"""

from __future__ import annotations

import gc
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from bedrock_harness import Driver, Telemetry
from bedrock_stub import THROTTLING, BedrockStub
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span

from routewatch.instrumentation import semconv
from routewatch.instrumentation.routing import attempts

PARAMS: dict[str, Any] = {
    "modelId": "us.anthropic.claude-3-5-sonnet-20240620-v1:0",
    "messages": [{"role": "user", "content": [{"text": "Hi"}]}],
}


@dataclass
class RecordingAttempt:
    path: str
    number: int
    span: Span
    ends: list[tuple[str, str | None]] = field(default_factory=list)

    @property
    def context(self) -> Context:
        return trace.set_span_in_context(self.span)

    @property
    def attributes(self) -> Mapping[str, str]:
        return {
            semconv.HYBRID_ROUTING_OPERATION: "infrastructure",
            semconv.HYBRID_ROUTING_ROUTE: "direct",
        }

    def end(self, outcome: str, error_type: str | None = None) -> None:
        self.ends.append((outcome, error_type))
        self.span.end()


@pytest.fixture
def attempts_made(telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch) -> list[RecordingAttempt]:
    made: list[RecordingAttempt] = []
    tracer = telemetry.tracer_provider.get_tracer("test.routing")

    def begin_attempt(path: str) -> RecordingAttempt:
        attempt = RecordingAttempt(path, len(made) + 1, tracer.start_span(f"attempt {path}"))
        made.append(attempt)
        return attempt

    monkeypatch.setattr(attempts, "begin_attempt", begin_attempt)
    return made


def _model_span(telemetry: Telemetry) -> Any:
    (span,) = [s for s in telemetry.spans() if s.name.startswith("chat ")]
    return span


def test_model_span_is_the_attempts_child(
    driver: Driver, telemetry: Telemetry, attempts_made: list[RecordingAttempt], instrumented: Any
) -> None:
    driver.converse(**PARAMS)

    (attempt,) = attempts_made
    assert attempt.path == "direct"
    assert attempt.ends == [("success", None)]
    model = _model_span(telemetry)
    assert model.parent is not None
    assert model.parent.span_id == attempt.span.get_span_context().span_id
    assert model.context.trace_id == attempt.span.get_span_context().trace_id


def test_failed_call_ends_the_attempt_with_its_error_type(
    driver: Driver,
    stub: BedrockStub,
    telemetry: Telemetry,
    attempts_made: list[RecordingAttempt],
    instrumented: Any,
) -> None:
    stub.fail_next(THROTTLING)
    with pytest.raises(Exception, match="ThrottlingException"):
        driver.converse(**PARAMS)

    (attempt,) = attempts_made
    assert attempt.ends == [("error", "ThrottlingException")]


def test_stream_ends_the_attempt_when_the_stream_ends(
    sync_driver: Any, telemetry: Telemetry, attempts_made: list[RecordingAttempt], instrumented: Any
) -> None:
    stream = sync_driver.client.converse_stream(**PARAMS)["stream"]
    (attempt,) = attempts_made
    assert attempt.ends == []
    list(stream)
    del stream
    gc.collect()

    assert attempt.ends == [("success", None)]


def test_cost_carries_the_route_and_operation(
    driver: Driver, telemetry: Telemetry, attempts_made: list[RecordingAttempt], instrumented: Any
) -> None:
    driver.converse(**PARAMS)

    (cost,) = telemetry.points(semconv.HYBRID_ROUTING_COST)
    assert dict(cost.attributes) == {
        semconv.GEN_AI_REQUEST_MODEL: "anthropic.claude-3-5-sonnet-20240620-v1:0",
        semconv.HYBRID_ROUTING_ROUTE: "direct",
        semconv.HYBRID_ROUTING_OPERATION: "infrastructure",
    }


def test_a_broken_routing_layer_does_not_break_the_call(
    driver: Driver, telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch, instrumented: Any
) -> None:
    def begin_attempt(path: str) -> Any:
        raise RuntimeError("routing layer bug")

    monkeypatch.setattr(attempts, "begin_attempt", begin_attempt)
    result = driver.converse(**PARAMS)

    assert result["stopReason"] == "end_turn"
    assert telemetry.span().parent is None


def test_an_attempt_whose_end_raises_does_not_break_the_call(
    driver: Driver,
    telemetry: Telemetry,
    attempts_made: list[RecordingAttempt],
    instrumented: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def end(self: RecordingAttempt, outcome: str, error_type: str | None = None) -> None:
        raise RuntimeError("routing layer bug")

    monkeypatch.setattr(RecordingAttempt, "end", end)
    result = driver.converse(**PARAMS)

    assert result["stopReason"] == "end_turn"
    assert _model_span(telemetry).attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 7
