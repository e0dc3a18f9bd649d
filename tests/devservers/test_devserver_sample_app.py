"""The sample support router: routing table, decision rule, fallback, breaker, cache TTLs,
with the direct path on the local Bedrock server and the MCP path over real stdio."""

from __future__ import annotations

import ast
import importlib
import inspect
import itertools
import subprocess
import sys
from pathlib import Path

import pytest
from botocore.exceptions import ReadTimeoutError
from support.clocks import ManualClock

from routewatch.collector.devservers import mcp_server, sample_app
from routewatch.collector.devservers.bedrock import BedrockServer, Behaviour, bedrock_server
from routewatch.collector.devservers.sample_app.__main__ import main as sample_main
from routewatch.collector.devservers.sample_app.breaker import BreakerState, CircuitBreaker
from routewatch.collector.devservers.sample_app.cache import (
    TTL_SECONDS,
    SupportCache,
    cache_key,
)
from routewatch.collector.devservers.sample_app.direct import DirectPath
from routewatch.collector.devservers.sample_app.mcp_path import McpPath
from routewatch.collector.devservers.sample_app.messages import (
    AttemptRecord,
    RoutingFailed,
    SupportRequest,
    SupportResponse,
)
from routewatch.collector.devservers.sample_app.operations import OPERATIONS, Operation, operation
from routewatch.collector.devservers.sample_app.router import (
    SupportRouter,
    attempt_order,
    choose_path,
)
from routewatch.collector.devservers.sample_app.traffic import MODELS, mixed_traffic

CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def test_routing_table_is_the_original() -> None:
    fields = ("priority", "primary", "fallback", "latency_target", "timeout")
    fields += ("max_tokens", "temperature")
    rows = {name: tuple(getattr(op, f) for f in fields) for name, op in OPERATIONS.items()}
    assert rows == {
        "emergency": ("critical", "direct", None, 5, 5, 1024, 0.1),
        "infrastructure": ("critical", "direct", "mcp", 10, 10, 2048, 0.2),
        "meta_monitor": ("high", "direct", "mcp", 15, 10, 2048, 0.3),
        "implementation": ("high", "direct", "mcp", 15, 10, 4096, 0.4),
        "standard": ("medium", "mcp", "direct", 30, 30, 4096, 0.7),
    }
    with pytest.raises(ValueError, match="unknown operation type 'billing' \\(known: emergency"):
        operation("billing")


@pytest.mark.parametrize(
    ("name", "direct_ok", "mcp_ok", "expected"),
    [
        ("infrastructure", True, True, ("direct", "primary_healthy")),
        ("infrastructure", False, True, ("mcp", "primary_unhealthy")),
        ("infrastructure", False, False, ("direct", "no_healthy_path")),
        ("infrastructure", True, False, ("direct", "primary_healthy")),
        ("standard", True, True, ("mcp", "primary_healthy")),
        ("standard", True, False, ("direct", "primary_unhealthy")),
        ("standard", False, False, ("mcp", "no_healthy_path")),
        ("emergency", True, True, ("direct", "primary_healthy")),
        ("emergency", False, True, ("direct", "no_healthy_path_emergency_direct")),
        ("meta_monitor", False, True, ("mcp", "primary_unhealthy")),
        ("implementation", False, False, ("direct", "no_healthy_path")),
    ],
)
def test_decision_rule(name: str, direct_ok: bool, mcp_ok: bool, expected: tuple[str, str]) -> None:
    health = {"direct": direct_ok, "mcp": mcp_ok}
    assert choose_path(OPERATIONS[name], health.__getitem__) == expected


def test_attempt_order_falls_back_to_the_other_path() -> None:
    assert attempt_order(OPERATIONS["infrastructure"], "direct") == ("direct", "mcp")
    assert attempt_order(OPERATIONS["infrastructure"], "mcp") == ("mcp", "direct")
    assert attempt_order(OPERATIONS["standard"], "mcp") == ("mcp", "direct")
    assert attempt_order(OPERATIONS["emergency"], "direct") == ("direct",)


def test_circuit_breaker_opens_after_three_failures_for_thirty_seconds(clock: ManualClock) -> None:
    breaker = CircuitBreaker(clock=clock)
    breaker.failed()
    breaker.failed()
    breaker.succeeded()  # a success in between resets the count
    breaker.failed()
    breaker.failed()
    assert breaker.state is BreakerState.CLOSED
    breaker.failed()
    assert breaker.state is BreakerState.OPEN
    assert not breaker.healthy()
    clock.advance(29.999)
    assert breaker.state is BreakerState.OPEN
    clock.advance(0.001)
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.healthy()


def test_circuit_breaker_half_open_allows_two_trial_calls(clock: ManualClock) -> None:
    breaker = CircuitBreaker(clock=clock)
    for _ in range(3):
        breaker.failed()
    clock.advance(30)
    breaker.started()
    assert breaker.healthy()
    breaker.started()
    assert not breaker.healthy()  # both trial calls in flight
    breaker.succeeded()
    assert breaker.state is BreakerState.HALF_OPEN
    breaker.succeeded()
    assert breaker.state is BreakerState.CLOSED
    assert breaker.healthy()


def test_circuit_breaker_failed_trial_reopens(clock: ManualClock) -> None:
    breaker = CircuitBreaker(clock=clock)
    for _ in range(3):
        breaker.failed()
    clock.advance(30)
    breaker.started()
    breaker.failed()
    assert breaker.state is BreakerState.OPEN
    clock.advance(29)
    assert breaker.state is BreakerState.OPEN
    clock.advance(1)
    assert breaker.state is BreakerState.HALF_OPEN


def _response(op: str = "infrastructure") -> SupportResponse:
    return SupportResponse(
        op,
        "direct",
        "answer",
        "primary_healthy",
        (AttemptRecord("direct", "success"),),
        10,
        20,
        0.5,
    )


@pytest.mark.parametrize(
    ("op", "task", "ttl"),
    [
        ("infrastructure", "", 300),
        ("meta_monitor", "", 60),
        ("implementation", "", 600),
        ("standard", "compliance_validation", 1800),
        ("standard", "security_audit", 900),
        ("standard", "cost_analysis", 300),
    ],
)
def test_cache_ttl_per_task(clock: ManualClock, op: str, task: str, ttl: float) -> None:
    cache = SupportCache(clock=clock)
    request = SupportRequest(op, {"service": "checkout"}, task=task)
    assert cache.cacheable(request)
    assert cache.get(request) is None
    cache.put(request, _response(op))
    clock.advance(ttl - 0.001)
    hit = cache.get(request)
    assert hit is not None
    assert (hit.route, hit.attempts, hit.cost_usd, hit.reason) == ("cache", (), 0.0, "cache_hit")
    assert hit.text == "answer"
    clock.advance(0.001)
    assert cache.get(request) is None
    assert (cache.hits, cache.misses) == (1, 2)
    assert len(cache) == 0


def test_cache_ttls_are_the_original() -> None:
    assert TTL_SECONDS == {
        "infrastructure_audit": 300,
        "meta_monitoring": 60,
        "implementation_gaps": 600,
        "compliance_validation": 1800,
        "security_audit": 900,
        "cost_analysis": 300,
    }


def test_cache_key_is_operation_plus_sha256_of_canonical_context() -> None:
    a = SupportRequest("infrastructure", {"service": "checkout", "region": "eu-west-1"})
    b = SupportRequest("infrastructure", {"region": "eu-west-1", "service": "checkout"})
    assert cache_key(a) == cache_key(b)
    prefix, digest = cache_key(a).split(":")
    assert prefix == "infrastructure"
    assert len(digest) == 64
    assert cache_key(a) != cache_key(SupportRequest("meta_monitor", a.context))
    assert cache_key(a) != cache_key(SupportRequest("infrastructure", {"service": "search"}))
    # The model is not part of the question: the same answer serves every model.
    assert cache_key(a) == cache_key(SupportRequest("infrastructure", a.context, model_id="x"))


def test_uncacheable_tasks_are_never_stored(clock: ManualClock) -> None:
    cache = SupportCache(clock=clock)
    for request in (
        SupportRequest("emergency", {"incident": "INC-1"}),
        SupportRequest("standard", {"q": 1}, task="support_answer"),
    ):
        assert not cache.cacheable(request)
        cache.put(request, _response(request.operation_type))
        assert cache.get(request) is None
    assert len(cache) == 0


def test_cache_holds_at_most_max_entries_least_recently_used_out(clock: ManualClock) -> None:
    cache = SupportCache(max_entries=3, clock=clock)
    requests = [SupportRequest("infrastructure", {"n": i}) for i in range(4)]
    for request in requests[:3]:
        cache.put(request, _response())
    assert cache.get(requests[0]) is not None  # now most recently used
    cache.put(requests[3], _response())
    assert len(cache) == 3
    assert cache.get(requests[1]) is None
    assert all(cache.get(r) is not None for r in (requests[0], requests[2], requests[3]))
    assert SupportCache().max_entries == 1000


def test_cache_health_rule(clock: ManualClock) -> None:
    cache = SupportCache(clock=clock)
    request = SupportRequest("infrastructure", {"n": 1})
    for _ in range(10):
        cache.get(request)
    assert cache.healthy()  # not judged before more than 10 lookups
    cache.get(request)
    assert not cache.healthy()
    cache.put(request, _response())
    for _ in range(11):
        cache.get(request)
    assert cache.hit_rate == 0.5
    assert cache.healthy()


async def test_direct_path_uses_each_operations_limits(bedrock: BedrockServer) -> None:
    direct = DirectPath(bedrock.url, **CREDENTIALS)
    try:
        for op in OPERATIONS.values():
            result = await direct.call(op, SupportRequest(op.name, {"n": 1}), op.default_task)
            assert result.success
            record = bedrock.records()[-1]
            assert (record.max_tokens, record.temperature) == (op.max_tokens, op.temperature)
            assert record.model_id == "anthropic.claude-3-5-sonnet-20240620-v1:0"
            config = direct._client(op.timeout).meta.config
            assert (config.read_timeout, config.connect_timeout) == (op.timeout, op.timeout)
            assert config.retries["total_max_attempts"] == 1
        assert result.cost_usd == pytest.approx(
            (result.input_tokens * 0.003 + result.output_tokens * 0.015) / 1000
        )
    finally:
        direct.close()


async def test_direct_path_times_out_after_the_operation_timeout() -> None:
    # Its own server: the slow answer it abandons must not land in the shared server's log.
    with bedrock_server(Behaviour(latency="fixed:0.5")) as slow:
        direct = DirectPath(slow.url, **CREDENTIALS)
        quick = Operation("quick", "high", "direct", "mcp", 0.1, 0.1, 100, 0.1, "support_answer")
        try:
            with pytest.raises(ReadTimeoutError):
                await direct.call(quick, SupportRequest("emergency"), "support_answer")
        finally:
            direct.close()


async def test_direct_path_unsuccessful_response(bedrock: BedrockServer) -> None:
    bedrock.configure(stop_reason="content_filtered")
    direct = DirectPath(bedrock.url, **CREDENTIALS)
    try:
        op = OPERATIONS["infrastructure"]
        result = await direct.call(op, SupportRequest(op.name), op.default_task)
    finally:
        direct.close()
    assert not result.success
    assert result.error == "unsuccessful_response:content_filtered"


async def test_router_fallback_breaker_and_cache_end_to_end(
    bedrock: BedrockServer, clock: ManualClock
) -> None:
    direct = DirectPath(bedrock.url, **CREDENTIALS)
    env = {mcp_server.ENV_ERROR: "support_answer"}  # standard/support_answer fails on MCP
    async with McpPath(env=env) as mcp:
        router = SupportRouter({"direct": direct, "mcp": mcp}, clock=clock)

        # A throttled direct attempt falls back to MCP, and the answer is cached.
        bedrock.inject("throttling")
        infra = SupportRequest("infrastructure", {"service": "checkout"})
        response = await router.handle(infra)
        assert response.route == "mcp"
        assert response.reason == "primary_healthy"
        assert response.attempts == (
            AttemptRecord("direct", "error", "ThrottlingException"),
            AttemptRecord("mcp", "success"),
        )
        assert response.text.startswith("infrastructure audit (")
        served = len(bedrock.records())
        cached = await router.handle(infra)
        assert (cached.route, cached.attempts) == ("cache", ())
        assert len(bedrock.records()) == served

        # An unsuccessful MCP answer (isError) falls back to direct for a standard request.
        standard = await router.handle(SupportRequest("standard", {"q": 1}, task="support_answer"))
        assert standard.route == "direct"
        assert standard.attempts == (
            AttemptRecord("mcp", "error", "tool_error"),
            AttemptRecord("direct", "success"),
        )
        assert standard.output_tokens == 48 and standard.cost_usd > 0

        # An unsuccessful direct answer falls back too.
        bedrock.configure(stop_reason="guardrail_intervened")
        implementation = await router.handle(SupportRequest("implementation", {"n": 1}))
        assert implementation.route == "mcp"
        assert implementation.attempts[0].error == "unsuccessful_response:guardrail_intervened"
        bedrock.configure(stop_reason="")
        bedrock.inject("model_not_ready")
        second = await router.handle(SupportRequest("implementation", {"n": 2}))
        assert second.attempts[0] == AttemptRecord("direct", "error", "ModelNotReadyException")

        # Emergency has no fallback: a failed direct attempt fails the request.
        bedrock.inject("internal")
        with pytest.raises(RoutingFailed) as failed:
            await router.handle(SupportRequest("emergency", {"incident": "INC-1"}))
        assert failed.value.attempts == (
            AttemptRecord("direct", "error", "InternalServerException"),
        )

        # That was the third direct failure in a row: the direct breaker is open.
        assert router.breakers["direct"].state is BreakerState.OPEN
        served = len(bedrock.records())
        meta = await router.handle(SupportRequest("meta_monitor", {"n": 2}))
        assert (meta.route, meta.reason) == ("mcp", "primary_unhealthy")
        assert meta.attempts == (AttemptRecord("mcp", "success"),)
        assert len(bedrock.records()) == served
        emergency = await router.handle(SupportRequest("emergency", {"incident": "INC-2"}))
        assert (emergency.route, emergency.reason) == ("direct", "no_healthy_path_emergency_direct")

        # 30 s later the breaker is half-open and direct is tried again.
        clock.advance(30)
        again = await router.handle(SupportRequest("infrastructure", {"service": "search"}))
        assert (again.route, again.reason) == ("direct", "primary_healthy")
        assert router.breakers["direct"].state is BreakerState.HALF_OPEN
        await router.handle(SupportRequest("infrastructure", {"service": "billing"}))
        assert router.breakers["direct"].state is BreakerState.CLOSED

        with pytest.raises(ValueError, match="unknown operation type"):
            await router.handle(SupportRequest("billing"))
    direct.close()


def test_mixed_traffic_covers_operations_models_and_repeats() -> None:
    requests = list(itertools.islice(mixed_traffic(seed=1), 60))
    assert [r.operation_type for r in requests[:5]] == list(OPERATIONS)
    assert {r.operation_type for r in requests} == set(OPERATIONS)
    assert {r.model_id for r in requests} == set(MODELS)
    keys = [cache_key(r) for r in requests if SupportCache().cacheable(r)]
    assert len(set(keys)) < len(keys)  # repeated contexts: cache hits
    assert requests == list(itertools.islice(mixed_traffic(seed=1), 60))
    only = list(itertools.islice(mixed_traffic(seed=1, operations=["standard", "emergency"]), 30))
    assert [r.operation_type for r in only[:2]] == ["standard", "emergency"]
    assert {r.operation_type for r in only} == {"standard", "emergency"}
    with pytest.raises(ValueError, match="unknown operation type 'billing'"):
        next(mixed_traffic(operations=["billing"]))


def test_main_drives_mixed_traffic_and_prints_a_summary(bedrock: BedrockServer) -> None:
    bedrock.inject("throttling", times=1)  # the first request's direct attempt falls back
    result = subprocess.run(
        [sys.executable, "-m", "routewatch.collector.devservers.sample_app",
         "--requests", "15", "--bedrock-url", bedrock.url, "--seed", "2",
         "--operations", "infrastructure,standard"],
        capture_output=True, text=True, timeout=90, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "sample app: 15 requests, 0 failed, 1 fell back"
    assert lines[1].startswith("  by operation: infrastructure ")
    assert "standard" in lines[1] and "emergency" not in lines[1]
    assert lines[3].startswith("  cache:        ")
    assert bedrock.records()[0].error == "ThrottlingException"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--requests", "5"], "the following arguments are required: --bedrock-url"),
        (["--bedrock-url", "http://x", "--requests", "-1"], "must not be negative"),
        (["--bedrock-url", "http://x", "--requests", "0"], "give --requests or --duration"),
        (
            ["--bedrock-url", "http://x", "--operations", "standard,billing"],
            "--operations: unknown operation type 'billing'",
        ),
        (
            ["--bedrock-url", "http://x", "--mcp-error", "teleport"],
            "ROUTEWATCH_MCP_ERROR: unknown tool(s) teleport",
        ),
        (["--bedrock-url", "http://x", "--mcp-latency", "soon"], "latency: 'soon'"),
    ],
)
def test_main_rejects_bad_arguments(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        sample_main(args)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_sample_app_imports_no_opentelemetry() -> None:
    root = Path(sample_app.__file__).parent
    for source in root.glob("*.py"):
        tree = ast.parse(source.read_text())
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names] if isinstance(node, ast.Import)
                else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            )  # fmt: skip
            assert not any(n.startswith("opentelemetry") for n in names), source.name


def test_declared_names_resolve() -> None:
    module, _, rest = sample_app.ROUTER.partition(":")
    qualname, _, argument = rest.partition("(")
    cls_name, method = qualname.split(".")
    handle = getattr(getattr(importlib.import_module(module), cls_name), method)
    assert inspect.iscoroutinefunction(handle)
    assert "request" in inspect.signature(handle).parameters
    assert argument == "operation=request.operation_type)"
    assert hasattr(SupportRequest("standard"), "operation_type")
    cache_module, _, cache_qualname = sample_app.CACHE.partition(":")
    cache_cls, cache_method = cache_qualname.split(".")
    assert callable(
        getattr(getattr(importlib.import_module(cache_module), cache_cls), cache_method)
    )
