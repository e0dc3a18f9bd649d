"""Time the instrumentation adds, against a local Bedrock-compatible HTTP server.

Prints, for each scenario, the median time per call and what it adds over the same call
uninstrumented, plus the ratio of routewatch's addition to upstream's
(opentelemetry-instrumentation-botocore). Two clocks: the calling thread's CPU time, which is
what instrumentation adds (it adds no waiting) and is not disturbed by other processes or by
the server thread; and wall time, noisier on a shared machine.

Scenarios are functions of `Setup` (see SCENARIOS); a scenario returns the function that
makes one call. Configurations (uninstrumented, routewatch, upstream) alternate in short
blocks in a shuffled order, so drift spreads evenly over all of them.

    .tools/bin/uv run --no-sync python benchmarks/instrumentation_overhead.py --rounds 40 --calls 25
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from routewatch.instrumentation import RoutewatchInstrumentor

ROOT = Path(__file__).resolve().parents[1]
# TODO(integrator): point at the shared devserver (collector/.../devservers) once merged.
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "instrumentation" / "bedrock")]
from bedrock_stub import bedrock_stub  # noqa: E402

MODEL = "anthropic.claude-3-5-sonnet-20240620-v1:0"
MESSAGES = [{"role": "user", "content": [{"text": "What is the status of the cluster?"}]}]


class _DropSpans(SpanExporter):
    """Export goes nowhere: the batch processor keeps exporting off the measured path."""

    def export(self, spans: Any) -> SpanExportResult:
        return SpanExportResult.SUCCESS


@dataclass
class Setup:
    endpoint_url: str
    tracer_provider: TracerProvider
    meter_provider: MeterProvider

    def client(self) -> Any:
        return boto3.session.Session().client(
            "bedrock-runtime",
            endpoint_url=self.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
            config=Config(retries={"total_max_attempts": 1}),
        )


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


CONFIGURATIONS: dict[str, Callable[[Setup], AbstractContextManager[None]]] = {
    "uninstrumented": lambda setup: nullcontext(),
    "routewatch": _routewatch,
    "opentelemetry-instrumentation-botocore": _upstream,
}


# --- scenarios -------------------------------------------------------------------------------


def bare_converse(setup: Setup) -> Callable[[], object]:
    """One Converse call, no routing around it."""
    client = setup.client()
    return lambda: client.converse(
        modelId=MODEL, messages=MESSAGES, inferenceConfig={"maxTokens": 256}
    )


# name -> (scenario, configurations it runs under). The routed request (route span + one
# Converse attempt + metrics) is added here when the routing layer lands.
SCENARIOS: dict[str, tuple[Callable[[Setup], Callable[[], object]], tuple[str, ...]]] = {
    "bare Converse call": (bare_converse, tuple(CONFIGURATIONS)),
}


Samples = dict[str, dict[str, list[float]]]  # clock -> configuration -> seconds per call
CLOCKS: dict[str, Callable[[], float]] = {"thread CPU": time.thread_time, "wall": time.perf_counter}


def measure(
    setup: Setup,
    scenario: Callable[[Setup], Callable[[], object]],
    configurations: tuple[str, ...],
    rounds: int,
    calls: int,
) -> Samples:
    """Seconds per call, per clock and configuration."""
    call = scenario(setup)
    for _ in range(50):  # warm up the connection pool and botocore's caches
        call()
    samples: Samples = {clock: {name: [] for name in configurations} for clock in CLOCKS}
    cpu, wall = samples["thread CPU"], samples["wall"]
    order = list(configurations)
    for _ in range(rounds):
        random.shuffle(order)
        for name in order:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40, help="blocks per configuration")
    parser.add_argument("--calls", type=int, default=25, help="calls per block")
    args = parser.parse_args()

    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(BatchSpanProcessor(_DropSpans()))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    with bedrock_stub() as stub:
        setup = Setup(stub.endpoint_url, tracer_provider, meter_provider)
        for title, (scenario, configurations) in SCENARIOS.items():
            report(title, measure(setup, scenario, configurations, args.rounds, args.calls))
    tracer_provider.shutdown()
    meter_provider.shutdown()


if __name__ == "__main__":
    main()
