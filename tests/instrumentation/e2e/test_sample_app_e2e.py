"""End to end: the sample router under a real `opentelemetry-instrument` subprocess, exporting
OTLP/gRPC to an in-test receiver, against the local Bedrock server with throttling injected.

Traffic (seed 1, eight requests; the first three are one of each operation, in order):
- infrastructure: direct first; the server throttles it, the router falls back to MCP;
- meta_monitor: direct, served by Bedrock Converse;
- standard: MCP first, served by the tool;
- then more of them, one of which the response cache serves (seed 1 repeats a context).
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
REQUESTS = 8
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

    def routes(self) -> list[Span]:
        found = [s for s in self.spans if s.name.startswith("route ")]
        return sorted(found, key=lambda s: s.start_time_unix_nano)

    def route(self, operation: str) -> Span:
        """The first routed request of `operation`."""
        return next(s for s in self.routes() if s.name == f"route {operation}")

    def attempts(self) -> list[Span]:
        return [s for s in self.spans if s.name.startswith("attempt ")]

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
            server.url,
            *("--requests", str(REQUESTS), "--operations", ",".join(OPERATIONS), "--seed", "1"),
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
        assert sink.wait_for(lambda s: s.metric_names() >= METRICS and s.span_count() >= 20)
        yield Run(sink.spans(), _metrics(sink), int(server.url.rsplit(":", 1)[1]), done.stdout)


def test_the_app_ran_its_traffic(run: Run) -> None:
    assert f"{REQUESTS} requests, 0 failed, 1 fell back" in run.stdout
    assert "cache 1," in run.stdout


def test_every_routed_request_is_one_trace_rooted_at_its_route_span(run: Run) -> None:
    routes = run.routes()
    assert len(routes) == REQUESTS
    assert [s.name for s in routes[:3]] == [f"route {op}" for op in OPERATIONS]
    for route in routes:
        assert route.kind == Span.SPAN_KIND_INTERNAL
        assert not route.parent_span_id
        tree = [route]
        for attempt in run.children(route):
            assert attempt.name.startswith("attempt ")
            tree += [attempt, *run.children(attempt)]
        assert {s.trace_id for s in tree} == {route.trace_id}
    assert len({route.trace_id for route in routes}) == REQUESTS


def test_a_cache_hit_is_served_by_cache_without_attempts(run: Run) -> None:
    (served,) = [
        r
        for r in run.routes()
        if attributes(r.attributes)[semconv.HYBRID_ROUTING_ROUTE] == semconv.ROUTE_CACHE
    ]
    assert run.children(served) == []
    assert attributes(served.attributes)[semconv.HYBRID_ROUTING_OUTCOME] == "success"
    (lookup,) = [e for e in served.events if e.name == semconv.HYBRID_ROUTING_CACHE_LOOKUP_EVENT]
    assert attributes(lookup.attributes) == {semconv.HYBRID_ROUTING_CACHE_RESULT: "hit"}


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


def _verdict(span: Span) -> frozenset[tuple[str, Any]]:
    attrs = attributes(span.attributes)
    return frozenset(
        (key, attrs[key])
        for key in (
            semconv.HYBRID_ROUTING_OPERATION,
            semconv.HYBRID_ROUTING_ROUTE,
            semconv.HYBRID_ROUTING_OUTCOME,
        )
    )


def _operation(span: Span) -> str:
    operation: str = attributes(span.attributes)[semconv.HYBRID_ROUTING_OPERATION]
    return operation


def _tally(keys: list[frozenset[tuple[str, Any]]]) -> dict[frozenset[tuple[str, Any]], int]:
    counts: dict[frozenset[tuple[str, Any]], int] = defaultdict(int)
    for key in keys:
        counts[key] += 1
    return dict(counts)


def test_routing_metrics_agree_with_the_spans(run: Run) -> None:
    assert _only(run, semconv.HYBRID_ROUTING_REQUEST_DURATION) == _tally(
        [_verdict(route) for route in run.routes()]
    )
    assert _only(run, semconv.HYBRID_ROUTING_ATTEMPTS) == _tally(
        [_verdict(attempt) for attempt in run.attempts()]
    )
    assert _only(run, semconv.HYBRID_ROUTING_FALLBACKS) == {
        frozenset(
            {
                (semconv.HYBRID_ROUTING_FALLBACK_FROM, "direct"),
                (semconv.HYBRID_ROUTING_FALLBACK_TO, "mcp"),
                (semconv.HYBRID_ROUTING_REASON, "ThrottlingException"),
                (semconv.HYBRID_ROUTING_OPERATION, "infrastructure"),
            }
        ): 1
    }
    lookups = [
        frozenset(
            {
                *attributes(event.attributes).items(),  # the cache result
                (semconv.HYBRID_ROUTING_OPERATION, _operation(route)),
            }
        )
        for route in run.routes()
        for event in route.events
        if event.name == semconv.HYBRID_ROUTING_CACHE_LOOKUP_EVENT
    ]
    assert _only(run, semconv.HYBRID_ROUTING_CACHE_LOOKUPS) == _tally(lookups)
    assert {dict(k)[semconv.HYBRID_ROUTING_CACHE_RESULT] for k in _tally(lookups)} == {
        "hit",
        "miss",
    }


def test_model_call_metrics_and_cost_agree_with_the_spans(run: Run) -> None:
    calls = [s for s in run.spans if s.name.startswith("chat ")]
    served = [c for c in calls if semconv.ERROR_TYPE not in attributes(c.attributes)]
    assert len(calls) - len(served) == 1  # the throttled one

    durations = _only(run, semconv.GEN_AI_CLIENT_OPERATION_DURATION)
    assert sum(durations.values()) == len(calls)
    assert sum(v for k, v in durations.items() if dict(k).get(semconv.ERROR_TYPE)) == 1
    for key in durations:
        attrs = dict(key)
        assert attrs[semconv.GEN_AI_PROVIDER_NAME] == semconv.PROVIDER_AWS_BEDROCK
        assert attrs[semconv.GEN_AI_OPERATION_NAME] == "chat"
        assert attrs[semconv.SERVER_ADDRESS] == "127.0.0.1"
        assert attrs[semconv.SERVER_PORT] == run.server_port

    tokens = run.points(semconv.GEN_AI_CLIENT_TOKEN_USAGE)
    for token_type, usage in (
        ("input", semconv.GEN_AI_USAGE_INPUT_TOKENS),
        ("output", semconv.GEN_AI_USAGE_OUTPUT_TOKENS),
    ):
        points = [p for k, p in tokens.items() if dict(k)[semconv.GEN_AI_TOKEN_TYPE] == token_type]
        assert sum(p.count for p in points) == len(served)
        assert sum(p.sum for p in points) == sum(attributes(c.attributes)[usage] for c in served)

    # Cost per route and operation: every direct success spent something.
    costs = run.points(semconv.HYBRID_ROUTING_COST)
    spent = {
        (dict(k)[semconv.HYBRID_ROUTING_OPERATION], dict(k)[semconv.HYBRID_ROUTING_ROUTE])
        for k, p in costs.items()
        if p.as_double > 0
    }
    direct_served = {
        attributes(r.attributes)[semconv.HYBRID_ROUTING_OPERATION]
        for r in run.routes()
        if attributes(r.attributes)[semconv.HYBRID_ROUTING_ROUTE] == "direct"
    }
    assert spent == {(op, "direct") for op in direct_served}
    assert all(dict(k)[semconv.GEN_AI_REQUEST_MODEL] for k in costs)


def test_mcp_metrics_agree_with_the_spans(run: Run) -> None:
    tool_calls = [t for a in run.attempts() for t in run.tool_calls(a)]
    durations = _only(run, semconv.MCP_CLIENT_OPERATION_DURATION)
    by_tool: dict[str, float] = defaultdict(float)
    for key, count in durations.items():
        if dict(key).get(semconv.MCP_METHOD_NAME) == "tools/call":
            by_tool[dict(key)[semconv.GEN_AI_TOOL_NAME]] += count
    expected: dict[str, float] = defaultdict(float)
    for call in tool_calls:
        expected[attributes(call.attributes)[semconv.GEN_AI_TOOL_NAME]] += 1
    assert by_tool == expected
    assert len(tool_calls) == 5  # the routes MCP served, one of them after the fallback
