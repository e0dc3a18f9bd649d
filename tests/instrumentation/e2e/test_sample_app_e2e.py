"""End to end: the sample router under a real `opentelemetry-instrument` subprocess, exporting
OTLP/gRPC to an in-test receiver, against the local Bedrock server with throttling injected.

Traffic (seed 0, one request of each operation, in order):
- infrastructure: direct first; the server throttles it, the router falls back to MCP;
- meta_monitor: direct, served by Bedrock Converse;
- standard: MCP first, served by the tool.
"""

from __future__ import annotations

import subprocess
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status
from support.otlp_sink import OtlpSink, otlp_sink

from routewatch.collector.devservers.bedrock import bedrock_server
from routewatch.collector.devservers.instrumented import app_environment, sample_app_command
from routewatch.collector.devservers.summary import attributes
from routewatch.instrumentation import semconv

OPERATIONS = ("infrastructure", "meta_monitor", "standard")
METRICS = {
    semconv.HYBRID_ROUTING_REQUEST_DURATION,
    semconv.HYBRID_ROUTING_ATTEMPTS,
    semconv.HYBRID_ROUTING_FALLBACKS,
    semconv.HYBRID_ROUTING_CACHE_LOOKUPS,
    semconv.HYBRID_ROUTING_COST,
    semconv.GEN_AI_CLIENT_OPERATION_DURATION,
    semconv.GEN_AI_CLIENT_TOKEN_USAGE,
    semconv.MCP_CLIENT_OPERATION_DURATION,
}


@dataclass
class Run:
    spans: list[Span]
    # metric name -> attribute set -> last (cumulative) point
    metrics: dict[str, dict[frozenset[tuple[str, Any]], Any]]
    server_port: int
    stdout: str

    def by_name(self, name: str) -> list[Span]:
        return [s for s in self.spans if s.name == name]

    def children(self, span: Span) -> list[Span]:
        found = [s for s in self.spans if s.parent_span_id == span.span_id]
        return sorted(found, key=lambda s: s.start_time_unix_nano)

    def tool_calls(self, attempt: Span) -> list[Span]:
        # The mcp SDK may list the tools first (to validate results): a child of its own.
        return [
            s
            for s in self.children(attempt)
            if attributes(s.attributes).get(semconv.MCP_METHOD_NAME) == "tools/call"
        ]

    def route(self, operation: str) -> Span:
        (span,) = self.by_name(f"route {operation}")
        return span

    def points(self, metric: str) -> dict[frozenset[tuple[str, Any]], Any]:
        return self.metrics[metric]


def _metrics(sink: OtlpSink) -> dict[str, dict[frozenset[tuple[str, Any]], Any]]:
    found: dict[str, dict[frozenset[tuple[str, Any]], Any]] = defaultdict(dict)
    with sink.lock:
        requests = list(sink.metrics)
    for request in requests:  # in arrival order: later cumulative points replace earlier ones
        for rm in request.resource_metrics:
            for sm in rm.scope_metrics:
                for metric in sm.metrics:
                    kind = metric.WhichOneof("data")
                    for point in getattr(metric, kind).data_points:
                        key = frozenset(
                            (k, tuple(v) if isinstance(v, list) else v)
                            for k, v in attributes(point.attributes).items()
                        )
                        found[metric.name][key] = point
    return found


@pytest.fixture(scope="module")
def run() -> Iterator[Run]:
    with bedrock_server() as server, otlp_sink() as sink:
        # The first Converse request (infrastructure's direct attempt) is throttled.
        server.inject("throttling", times=1, operation="converse")
        command = sample_app_command(
            server.url, "--requests", "3", "--operations", ",".join(OPERATIONS), "--seed", "0"
        )
        done = subprocess.run(
            command,
            env=app_environment(sink.endpoint),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        # The SDK flushes at exit; wait only in case an export is still being received.
        assert sink.wait_for(lambda s: s.metric_names() >= METRICS and s.span_count() >= 10)
        yield Run(sink.spans(), _metrics(sink), int(server.url.rsplit(":", 1)[1]), done.stdout)


def test_the_app_ran_its_traffic(run: Run) -> None:
    assert "3 requests, 0 failed, 1 fell back" in run.stdout


def test_every_routed_request_is_one_trace_rooted_at_its_route_span(run: Run) -> None:
    for operation in OPERATIONS:
        route = run.route(operation)
        assert route.kind == Span.SPAN_KIND_INTERNAL
        assert not route.parent_span_id
        tree = [route]
        for attempt in run.children(route):
            tree += [attempt, *run.children(attempt)]
        assert {s.trace_id for s in tree} == {route.trace_id}
        assert attributes(route.attributes)[semconv.HYBRID_ROUTING_OPERATION] == operation


def test_throttled_direct_attempt_falls_back_to_mcp(run: Run) -> None:
    route = run.route("infrastructure")
    assert attributes(route.attributes) == {
        semconv.HYBRID_ROUTING_OPERATION: "infrastructure",
        semconv.HYBRID_ROUTING_ROUTE: semconv.ROUTE_MCP,
        semconv.HYBRID_ROUTING_OUTCOME: semconv.OUTCOME_SUCCESS,
    }
    first, second = run.children(route)
    assert first.name == "attempt direct"
    assert first.status.code == Status.STATUS_CODE_ERROR
    assert attributes(first.attributes) == {
        semconv.HYBRID_ROUTING_OPERATION: "infrastructure",
        semconv.HYBRID_ROUTING_ROUTE: semconv.ROUTE_DIRECT,
        semconv.HYBRID_ROUTING_ATTEMPT: 1,
        semconv.HYBRID_ROUTING_OUTCOME: semconv.OUTCOME_ERROR,
        semconv.ERROR_TYPE: "ThrottlingException",
    }
    (model_call,) = run.children(first)
    call = attributes(model_call.attributes)
    assert model_call.name == f"chat {call[semconv.GEN_AI_REQUEST_MODEL]}"
    assert model_call.kind == Span.SPAN_KIND_CLIENT
    assert model_call.status.code == Status.STATUS_CODE_ERROR
    assert call[semconv.ERROR_TYPE] == "ThrottlingException"
    assert call[semconv.GEN_AI_PROVIDER_NAME] == semconv.PROVIDER_AWS_BEDROCK

    assert second.name == "attempt mcp"
    assert second.status.code != Status.STATUS_CODE_ERROR
    assert attributes(second.attributes) == {
        semconv.HYBRID_ROUTING_OPERATION: "infrastructure",
        semconv.HYBRID_ROUTING_ROUTE: semconv.ROUTE_MCP,
        semconv.HYBRID_ROUTING_ATTEMPT: 2,
        semconv.HYBRID_ROUTING_OUTCOME: semconv.OUTCOME_SUCCESS,
        semconv.HYBRID_ROUTING_FALLBACK_FROM: semconv.ROUTE_DIRECT,
        semconv.HYBRID_ROUTING_FALLBACK_TO: semconv.ROUTE_MCP,
        semconv.HYBRID_ROUTING_REASON: "ThrottlingException",
    }
    (event,) = [e for e in second.events if e.name == semconv.HYBRID_ROUTING_FALLBACK_EVENT]
    assert attributes(event.attributes) == {
        semconv.HYBRID_ROUTING_FALLBACK_FROM: semconv.ROUTE_DIRECT,
        semconv.HYBRID_ROUTING_FALLBACK_TO: semconv.ROUTE_MCP,
        semconv.ERROR_TYPE: "ThrottlingException",
    }
    (tool_call,) = run.tool_calls(second)
    tool = attributes(tool_call.attributes)
    assert tool[semconv.GEN_AI_TOOL_NAME] == "infrastructure_audit"
    assert semconv.ERROR_TYPE not in tool


def test_direct_attempt_has_the_model_call_with_tokens(run: Run) -> None:
    route = run.route("meta_monitor")
    assert attributes(route.attributes)[semconv.HYBRID_ROUTING_ROUTE] == semconv.ROUTE_DIRECT
    (attempt,) = run.children(route)
    assert attempt.name == "attempt direct"
    assert attributes(attempt.attributes)[semconv.HYBRID_ROUTING_OUTCOME] == "success"
    (model_call,) = run.children(attempt)
    call = attributes(model_call.attributes)
    model = call[semconv.GEN_AI_REQUEST_MODEL]
    assert model_call.name == f"chat {model}"
    assert model_call.kind == Span.SPAN_KIND_CLIENT
    assert call[semconv.GEN_AI_OPERATION_NAME] == "chat"
    assert call[semconv.GEN_AI_PROVIDER_NAME] == semconv.PROVIDER_AWS_BEDROCK
    assert call[semconv.SERVER_ADDRESS] == "127.0.0.1"
    assert call[semconv.SERVER_PORT] == run.server_port
    # meta_monitor's row of the routing table: maxTokens 2048, temperature 0.3.
    assert call[semconv.GEN_AI_REQUEST_MAX_TOKENS] == 2048
    assert call[semconv.GEN_AI_REQUEST_TEMPERATURE] == pytest.approx(0.3)
    assert call[semconv.GEN_AI_USAGE_INPUT_TOKENS] > 0
    assert call[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] > 0
    assert call[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ["end_turn"]
    # No prompt or answer text unless content capture is switched on.
    assert semconv.GEN_AI_INPUT_MESSAGES not in call
    assert semconv.GEN_AI_OUTPUT_MESSAGES not in call


def test_mcp_primary_route_has_the_tool_call(run: Run) -> None:
    route = run.route("standard")
    assert attributes(route.attributes)[semconv.HYBRID_ROUTING_ROUTE] == semconv.ROUTE_MCP
    (attempt,) = run.children(route)
    assert attempt.name == "attempt mcp"
    assert attributes(attempt.attributes)[semconv.HYBRID_ROUTING_ATTEMPT] == 1
    (tool_call,) = run.tool_calls(attempt)
    tool = attributes(tool_call.attributes)
    assert tool_call.name.endswith(f"tools/call {tool[semconv.GEN_AI_TOOL_NAME]}")


def _value(point: Any) -> float:
    return point.count if hasattr(point, "bucket_counts") else (point.as_double or point.as_int)


def _only(run: Run, metric: str) -> dict[frozenset[tuple[str, Any]], float]:
    return {key: _value(point) for key, point in run.points(metric).items()}


def test_routing_metrics(run: Run) -> None:
    op, route, outcome = (
        semconv.HYBRID_ROUTING_OPERATION,
        semconv.HYBRID_ROUTING_ROUTE,
        semconv.HYBRID_ROUTING_OUTCOME,
    )
    assert _only(run, semconv.HYBRID_ROUTING_REQUEST_DURATION) == {
        frozenset({(op, "infrastructure"), (route, "mcp"), (outcome, "success")}): 1,
        frozenset({(op, "meta_monitor"), (route, "direct"), (outcome, "success")}): 1,
        frozenset({(op, "standard"), (route, "mcp"), (outcome, "success")}): 1,
    }
    assert _only(run, semconv.HYBRID_ROUTING_ATTEMPTS) == {
        frozenset({(op, "infrastructure"), (route, "direct"), (outcome, "error")}): 1,
        frozenset({(op, "infrastructure"), (route, "mcp"), (outcome, "success")}): 1,
        frozenset({(op, "meta_monitor"), (route, "direct"), (outcome, "success")}): 1,
        frozenset({(op, "standard"), (route, "mcp"), (outcome, "success")}): 1,
    }
    assert _only(run, semconv.HYBRID_ROUTING_FALLBACKS) == {
        frozenset(
            {
                (semconv.HYBRID_ROUTING_FALLBACK_FROM, "direct"),
                (semconv.HYBRID_ROUTING_FALLBACK_TO, "mcp"),
                (semconv.HYBRID_ROUTING_REASON, "ThrottlingException"),
                (op, "infrastructure"),
            }
        ): 1
    }
    lookups = _only(run, semconv.HYBRID_ROUTING_CACHE_LOOKUPS)
    assert sum(lookups.values()) == 3
    assert {dict(key)[semconv.HYBRID_ROUTING_CACHE_RESULT] for key in lookups} == {"miss"}


def test_model_call_metrics_and_cost(run: Run) -> None:
    durations = _only(run, semconv.GEN_AI_CLIENT_OPERATION_DURATION)
    assert sum(durations.values()) == 2
    errors = [dict(k).get(semconv.ERROR_TYPE) for k in durations]
    assert sorted(errors, key=str) == [None, "ThrottlingException"]
    for key in durations:
        attrs = dict(key)
        assert attrs[semconv.GEN_AI_PROVIDER_NAME] == semconv.PROVIDER_AWS_BEDROCK
        assert attrs[semconv.GEN_AI_OPERATION_NAME] == "chat"
        assert attrs[semconv.SERVER_ADDRESS] == "127.0.0.1"

    tokens = _only(run, semconv.GEN_AI_CLIENT_TOKEN_USAGE)
    assert {dict(k)[semconv.GEN_AI_TOKEN_TYPE] for k in tokens} == {"input", "output"}
    assert all(count == 1 for count in tokens.values())

    (cost_key,) = run.points(semconv.HYBRID_ROUTING_COST)
    cost = dict(cost_key)
    assert cost[semconv.HYBRID_ROUTING_ROUTE] == "direct"
    assert cost[semconv.HYBRID_ROUTING_OPERATION] == "meta_monitor"
    assert cost[semconv.GEN_AI_REQUEST_MODEL]
    assert run.points(semconv.HYBRID_ROUTING_COST)[cost_key].as_double > 0


def test_mcp_metrics(run: Run) -> None:
    tools = _only(run, semconv.MCP_CLIENT_OPERATION_DURATION)
    by_tool = {
        dict(k).get(semconv.GEN_AI_TOOL_NAME): v
        for k, v in tools.items()
        if dict(k).get(semconv.MCP_METHOD_NAME) == "tools/call"
    }
    assert sum(by_tool.values()) == 2
    assert "infrastructure_audit" in by_tool
