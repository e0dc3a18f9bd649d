"""Time the instrumentation adds, against the local Bedrock server of devservers.

Prints, for each scenario, the median time per call and what it adds over the same call
uninstrumented, plus the ratio of routewatch's addition to upstream's
(opentelemetry-instrumentation-botocore). Two clocks: the calling thread's CPU time, which is
what instrumentation adds (it adds no waiting) and is not disturbed by other processes or by
the server thread; and wall time, noisier on a shared machine.

Scenarios are functions of `Setup` (see SCENARIOS); a scenario returns the function that
makes one call. Configurations (uninstrumented, routewatch, upstream) alternate in short
blocks in a shuffled order, so drift spreads evenly over all of them. The routed request is a
router declared in OTEL_PYTHON_ROUTEWATCH_ROUTERS (as an app would) whose one attempt is a
Converse call: route span, attempt span, model span and their metrics. Upstream has no routing
layer, so that scenario compares routewatch with the uninstrumented router only.

A fourth configuration makes the same spans and metric records by hand with the SDK (the
floor any instrumentation recording that telemetry pays); routewatch's own cost is what it
adds above it. Last, the SDK operations themselves are timed one by one. Targets (issue 2):
at most 100 us added per routed request (median), and per bare Converse call no more than
upstream adds.

    .tools/bin/uv run --no-sync python benchmarks/instrumentation_overhead.py --rounds 40 --calls 25
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from opentelemetry import context as otel_context
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, set_span_in_context

from routewatch.collector.devservers.bedrock import bedrock_server
from routewatch.instrumentation import RoutewatchInstrumentor
from routewatch.instrumentation.semconv import (
    DURATION_BUCKETS,
    OTEL_PYTHON_ROUTEWATCH_ROUTERS,
    TOKEN_BUCKETS,
)

MODEL = "anthropic.claude-3-5-sonnet-20240620-v1:0"
MESSAGES = [{"role": "user", "content": [{"text": "What is the status of the cluster?"}]}]


class _DropSpans(SpanExporter):
    """Export goes nowhere: the batch processor keeps exporting off the measured path."""

    def export(self, spans: Any) -> SpanExportResult:
        return SpanExportResult.SUCCESS


@dataclass
class Recorded:
    """One answer of the local server, as botocore received it."""

    status: int
    headers: dict[str, str]
    body: bytes

    def stream(self) -> Iterator[bytes]:  # what AWSResponse reads its content from
        yield self.body

    def response(self, request: Any, **_: Any) -> AWSResponse:
        return AWSResponse(request.url, self.status, self.headers, self)


@dataclass
class Setup:
    endpoint_url: str
    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    # When set, clients answer every request with it from botocore's before-send hook:
    # serialising, signing and parsing stay, the socket and the server go.
    replay: Recorded | None = None

    @property
    def port(self) -> int:
        return int(self.endpoint_url.rsplit(":", 1)[1])

    def client(self) -> Any:
        client = boto3.session.Session().client(
            "bedrock-runtime",
            endpoint_url=self.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
            config=Config(retries={"total_max_attempts": 1}),
        )
        if self.replay is not None:
            client.meta.events.register("before-send.bedrock-runtime.*", self.replay.response)
        return client


def record_converse(setup: Setup) -> Recorded:
    """The server's answer to the benchmark's Converse request."""
    client = setup.client()
    found: list[Recorded] = []

    def keep(http_response: Any, **_: Any) -> None:
        found.append(
            Recorded(http_response.status_code, dict(http_response.headers), http_response.content)
        )

    client.meta.events.register("after-call.bedrock-runtime.Converse", keep)
    client.converse(modelId=MODEL, messages=MESSAGES, inferenceConfig={"maxTokens": 256})
    return found[0]


# --- instrumentation configurations --------------------------------------------------------


def _routewatch(setup: Setup) -> AbstractContextManager[None]:
    return _instrumented(RoutewatchInstrumentor(), setup)


def _upstream(setup: Setup) -> AbstractContextManager[None]:
    from opentelemetry.instrumentation.botocore import BotocoreInstrumentor

    return _instrumented(BotocoreInstrumentor(), setup)


@contextmanager
def _instrumented(instrumentor: Any, setup: Setup) -> Iterator[None]:
    instrumentor.instrument(
        tracer_provider=setup.tracer_provider, meter_provider=setup.meter_provider
    )
    try:
        yield
    finally:
        instrumentor.uninstrument()


# The same spans, attributes and metric records as routewatch makes, made by hand with the
# SDK around the uninstrumented call: the floor any instrumentation recording that telemetry
# pays. routewatch's own cost is what it adds above this line.
SDK_FLOOR = "OTel SDK work alone (floor)"

CONFIGURATIONS: dict[str, Callable[[Setup], AbstractContextManager[None]]] = {
    "uninstrumented": lambda setup: nullcontext(),
    "routewatch": _routewatch,
    "opentelemetry-instrumentation-botocore": _upstream,
    SDK_FLOOR: lambda setup: nullcontext(),
}


class SdkFloor:
    """routewatch's telemetry for a Converse call, and for a route around it, written out
    directly against the SDK (same span names, attribute counts, instruments, records)."""

    def __init__(self, setup: Setup, port: int) -> None:
        self.tracer = setup.tracer_provider.get_tracer("sdk-floor")
        meter = setup.meter_provider.get_meter("sdk-floor")
        self.duration = meter.create_histogram(
            "floor.operation.duration", "s", explicit_bucket_boundaries_advisory=DURATION_BUCKETS
        )
        self.tokens = meter.create_histogram(
            "floor.token.usage", "{token}", explicit_bucket_boundaries_advisory=TOKEN_BUCKETS
        )
        self.cost = meter.create_counter("floor.cost", "USD")
        self.request_duration = meter.create_histogram(
            "floor.request.duration", "s", explicit_bucket_boundaries_advisory=DURATION_BUCKETS
        )
        self.attempts = meter.create_counter("floor.attempts")
        self.port = port

    def model_call(self, call: Callable[[], Any], route: str | None) -> Any:
        attributes = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "aws.bedrock",
            "server.address": "127.0.0.1",
            "server.port": self.port,
            "gen_ai.request.model": MODEL,
        }
        span = self.tracer.start_span(
            f"chat {MODEL}",
            kind=SpanKind.CLIENT,
            attributes={**attributes, "gen_ai.request.max_tokens": 256},
        )
        token = otel_context.attach(set_span_in_context(span))
        start = time.perf_counter()
        try:
            result = call()
        finally:
            otel_context.detach(token)
        usage = result["usage"]
        self.duration.record(time.perf_counter() - start, attributes)
        self.tokens.record(usage["inputTokens"], {**attributes, "gen_ai.token.type": "input"})
        self.tokens.record(usage["outputTokens"], {**attributes, "gen_ai.token.type": "output"})
        cost = {"gen_ai.request.model": MODEL}
        if route is not None:
            cost |= {"hybrid_routing.route": "direct", "hybrid_routing.operation": route}
        self.cost.add(0.001, cost)
        span.set_attributes(
            {
                "gen_ai.response.finish_reasons": (result["stopReason"],),
                "gen_ai.usage.input_tokens": usage["inputTokens"],
                "gen_ai.usage.output_tokens": usage["outputTokens"],
            }
        )
        span.end()
        return result

    def routed(self, call: Callable[[], Any], operation: str) -> Any:
        start = time.perf_counter()
        span = self.tracer.start_span(
            f"route {operation}", attributes={"hybrid_routing.operation": operation}
        )
        token = otel_context.attach(set_span_in_context(span))
        try:
            attempt = self.tracer.start_span(
                "attempt direct",
                attributes={
                    "hybrid_routing.operation": operation,
                    "hybrid_routing.route": "direct",
                    "hybrid_routing.attempt": 1,
                },
            )
            parent = otel_context.attach(set_span_in_context(attempt))
            try:
                result = self.model_call(call, operation)
            finally:
                otel_context.detach(parent)
            attempt.set_attribute("hybrid_routing.outcome", "success")
            attempt.end()
            verdict = {
                "hybrid_routing.operation": operation,
                "hybrid_routing.route": "direct",
                "hybrid_routing.outcome": "success",
            }
            self.attempts.add(1, verdict)
        finally:
            otel_context.detach(token)
        span.set_attributes({"hybrid_routing.route": "direct", "hybrid_routing.outcome": "success"})
        span.end()
        self.request_duration.record(time.perf_counter() - start, verdict)
        return result


# --- scenarios -------------------------------------------------------------------------------


def bare_converse(setup: Setup, configuration: str) -> Callable[[], object]:
    """One Converse call, no routing around it."""
    client = setup.client()

    def call() -> Any:
        return client.converse(modelId=MODEL, messages=MESSAGES, inferenceConfig={"maxTokens": 256})

    if configuration == SDK_FLOOR:
        floor = SdkFloor(setup, setup.port)
        return lambda: floor.model_call(call, None)
    return call


class SupportRouter:
    """A router as an app writes it (no OpenTelemetry): one Converse attempt per request."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def handle(self, operation: str) -> Any:
        return self.client.converse(
            modelId=MODEL, messages=MESSAGES, inferenceConfig={"maxTokens": 256}
        )


# What an app declares; this script runs as __main__, so the router lives there.
ROUTERS = f"{__name__}:SupportRouter.handle(operation=operation)"


def routed_request(setup: Setup, configuration: str) -> Callable[[], object]:
    """One routed request: route span + one Converse attempt + the routing metrics."""
    router = SupportRouter(setup.client())
    if configuration == SDK_FLOOR:
        floor = SdkFloor(setup, setup.port)
        return lambda: floor.routed(lambda: router.handle("standard"), "standard")
    return lambda: router.handle("standard")


def check_routed_telemetry(url: str) -> str:
    """What one routed request records under routewatch (so the timing measures real work)."""
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    setup = Setup(url, tracer_provider, MeterProvider(metric_readers=[reader]))
    call = routed_request(setup, "routewatch")
    with _routewatch(setup):
        call()
    spans = {span.name: span for span in exporter.get_finished_spans()}
    tree = [name for name in spans if name.startswith("route ")]
    tree += [name for name in spans if name.startswith("attempt ")]
    tree += [name for name in spans if name not in tree]
    data = reader.get_metrics_data()
    metrics = sorted(
        metric.name
        for resource in (data.resource_metrics if data else [])
        for scope in resource.scope_metrics
        for metric in scope.metrics
    )
    if len(tree) != 3:
        raise SystemExit(f"the routed request was not traced as expected: spans {tree}")
    return f"spans {' > '.join(tree)}; metrics {', '.join(metrics)}"


# name -> (scenario, configurations it runs under).
Scenario = Callable[[Setup, str], Callable[[], object]]  # (setup, configuration) -> call
ROUTED = ("uninstrumented", "routewatch", SDK_FLOOR)
# name -> (scenario, configurations, replayed): a replayed scenario answers from the server's
# recorded bytes without a socket, so less noise hides what the instrumentation adds.
SCENARIOS: dict[str, tuple[Scenario, tuple[str, ...], bool]] = {
    "bare Converse call": (bare_converse, tuple(CONFIGURATIONS), False),
    "routed request (route + one Converse attempt)": (routed_request, ROUTED, False),
    "bare Converse call, replayed (no socket)": (bare_converse, tuple(CONFIGURATIONS), True),
    "routed request, replayed (no socket)": (routed_request, ROUTED, True),
}


Samples = dict[str, dict[str, list[float]]]  # clock -> configuration -> seconds per call
CLOCKS: dict[str, Callable[[], float]] = {"thread CPU": time.thread_time, "wall": time.perf_counter}


def measure(
    setup: Setup,
    scenario: Scenario,
    configurations: tuple[str, ...],
    rounds: int,
    calls: int,
) -> Samples:
    """Seconds per call, per clock and configuration."""
    by_configuration = {name: scenario(setup, name) for name in configurations}
    for call in by_configuration.values():
        for _ in range(50):  # warm up the connection pool and botocore's caches
            call()
    samples: Samples = {clock: {name: [] for name in configurations} for clock in CLOCKS}
    cpu, wall = samples["thread CPU"], samples["wall"]
    order = list(configurations)
    for _ in range(rounds):
        random.shuffle(order)
        for name in order:
            call = by_configuration[name]
            with CONFIGURATIONS[name](setup):
                call()
                for _ in range(calls):
                    start_cpu, start_wall = time.thread_time(), time.perf_counter()
                    call()
                    wall[name].append(time.perf_counter() - start_wall)
                    cpu[name].append(time.thread_time() - start_cpu)
    return samples


def report(title: str, samples: Samples) -> None:
    for clock, by_configuration in samples.items():
        medians = {name: statistics.median(values) for name, values in by_configuration.items()}
        base = medians["uninstrumented"]
        count = len(by_configuration["uninstrumented"])
        print(f"\n{title}, {clock} time ({count} calls per configuration)")
        print(f"  {'configuration':42} {'median/call':>12} {'added':>11}")
        for name, median in medians.items():
            added = "" if name == "uninstrumented" else f"{(median - base) * 1e6:+8.1f} us"
            print(f"  {name:42} {median * 1e6:9.1f} us {added:>11}")
        upstream = medians.get("opentelemetry-instrumentation-botocore")
        if upstream is not None and "routewatch" in medians:
            ours, theirs = medians["routewatch"] - base, upstream - base
            ratio = f"{ours / theirs:.2f}" if theirs > 0 else "n/a"
            print(f"  routewatch adds / upstream adds = {ratio}")
        floor = medians.get(SDK_FLOOR)
        if floor is not None and "routewatch" in medians:
            own = (medians["routewatch"] - floor) * 1e6
            print(f"  routewatch's own cost above the SDK floor = {own:+.1f} us")


def sdk_costs(setup: Setup, repeat: int = 2000) -> list[tuple[str, float]]:
    """Median thread CPU time of each SDK operation a routed request needs, in a tight loop
    (so warmer caches than in a real request: a lower bound of each)."""
    tracer = setup.tracer_provider.get_tracer("sdk-costs")
    meter = setup.meter_provider.get_meter("sdk-costs")
    histogram = meter.create_histogram("costs.h", explicit_bucket_boundaries_advisory=TOKEN_BUCKETS)
    counter = meter.create_counter("costs.c")
    five = {f"attribute.{i}": f"value{i}" for i in range(4)} | {"server.port": 8080}
    three = {f"attribute.{i}": f"value{i}" for i in range(3)}
    operations: list[tuple[str, Callable[[], object]]] = [
        ("span start + end, 6 attributes", lambda: tracer.start_span("s", attributes=five).end()),
        ("histogram record, 5-6 attributes", lambda: histogram.record(1.0, five)),
        ("histogram record, 3 attributes", lambda: histogram.record(1.0, three)),
        ("counter add, 3 attributes", lambda: counter.add(1, three)),
    ]
    costs = []
    # As in a request, inside a sampled span: each record also offers the SDK an exemplar.
    parent = tracer.start_span("parent")
    token = otel_context.attach(set_span_in_context(parent))
    try:
        for name, operation in operations:
            for _ in range(200):
                operation()
            samples = []
            for _ in range(repeat):
                start = time.thread_time()
                for _ in range(10):
                    operation()
                samples.append((time.thread_time() - start) / 10)
            costs.append((name, statistics.median(samples)))
    finally:
        otel_context.detach(token)
        parent.end()
    return costs


def report_sdk_costs(costs: list[tuple[str, float]]) -> None:
    print("\nwhere the SDK floor goes (thread CPU per operation, tight loop)")
    for name, seconds in costs:
        print(f"  {name:42} {seconds * 1e6:9.1f} us")
    by_name = dict(costs)
    # What routewatch records per routed request: route, attempt and model spans; duration
    # and two token histograms plus the request duration; attempts and cost counters.
    routed = (
        3 * by_name["span start + end, 6 attributes"]
        + 3 * by_name["histogram record, 5-6 attributes"]
        + by_name["histogram record, 3 attributes"]
        + 2 * by_name["counter add, 3 attributes"]
    )
    print(f"  {'sum per routed request (3 spans, 6 records)':42} {routed * 1e6:9.1f} us")


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40, help="blocks per configuration")
    parser.add_argument("--calls", type=int, default=25, help="calls per block")
    parser.add_argument("--only", default="", help="run only scenarios whose name contains this")
    args = parser.parse_args()
    os.environ[OTEL_PYTHON_ROUTEWATCH_ROUTERS] = ROUTERS
    print(f"load average at start: {_load()}")

    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(BatchSpanProcessor(_DropSpans()))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    with bedrock_server() as server:
        print(f"one routed request under routewatch records: {check_routed_telemetry(server.url)}")
        setup = Setup(server.url, tracer_provider, meter_provider)
        replayed = Setup(server.url, tracer_provider, meter_provider, record_converse(setup))
        for title, (scenario, configurations, replay) in SCENARIOS.items():
            if args.only not in title:
                continue
            chosen = replayed if replay else setup
            report(title, measure(chosen, scenario, configurations, args.rounds, args.calls))
        report_sdk_costs(sdk_costs(setup))
    print(f"\nload average at end: {_load()} (the machine may be shared: compare CPU times)")
    tracer_provider.shutdown()
    meter_provider.shutdown()


if __name__ == "__main__":
    main()
