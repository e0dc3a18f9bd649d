"""Alerting latency and evaluation cost (in process).

1. Evaluation cost: one full evaluation of the rules over 10,000 active series (each with a
   5-minute window of delta histogram points every 15 s, i.e. 20 points per series), when
   every series got a new point since the last evaluation (all readings recomputed) and when
   none did (time moved on only). Target: under 50 ms per evaluation.
2. In-process alert latency: from a metrics batch that crosses a threshold arriving at the
   `routewatch_alerts` connector to the alert log record reaching the next consumer
   (`for: 0`, `group_wait: 0`), with the 10,000 series loaded. The integrator extends this to
   receiver -> PagerDuty server after the merge.

Run: `.tools/bin/uv run --no-sync python benchmarks/alert_latency.py [--series N] [--runs N]`
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import resource
import statistics
import time
from typing import Any

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)

from routewatch.collector.alerting.clock import Tick
from routewatch.collector.alerting.engine import Engine, EngineSettings
from routewatch.collector.alerting.otlp_build import PointSpec, add_metric
from routewatch.collector.alerting.rules import RuleSet, decode_rule
from routewatch.collector.component import ComponentID, CreateSettings, Data, Kind
from routewatch.collector.confmap import decode
from routewatch.collector.connectors.routewatch_alerts.config import Config
from routewatch.collector.connectors.routewatch_alerts.connector import AlertsConnector
from routewatch.collector.telemetry import Telemetry
from routewatch.instrumentation.semconv import DURATION_BUCKETS

METRIC = "hybrid_routing.request.duration"
ROUTES = ("direct", "mcp", "cache", "fallback", "other")
LATENCY = {
    "alert": "RouteLatencyHigh",
    "kind": "quantile",
    "metric": METRIC,
    "quantile": 0.95,
    "by": ["service.name", "hybrid_routing.route"],
    "window": "5m",
    "thresholds": {"critical": "> 15", "warning": "> 10"},
    "annotations": {"summary": "p95 of {{ labels['hybrid_routing.route'] }} is {{ value }}"},
}
SUCCESS = {
    "alert": "RouteSuccessRateLow",
    "kind": "ratio",
    "numerator": {"metric": METRIC, "where": {"hybrid_routing.outcome": "success"}},
    "denominator": {"metric": METRIC},
    "by": ["service.name", "hybrid_routing.route"],
    "window": "5m",
    "thresholds": {"critical": "< 0.85", "error": "< 0.90", "warning": "< 0.95"},
}
HEALTHY = [0, 0, 0, 0, 2, 5, 8, 3, 1, 1, 0, 0, 0, 0, 0]  # 20 requests, p95 ~ 1.3 s
SLOW = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 500, 500, 0, 0]  # 1000 slow requests: p95 ~ 20 s


def batch(t: float, series: int, counts: list[int], first: int = 0) -> ExportMetricsServiceRequest:
    """One delta export per service (series / len(ROUTES) services, one point per route)."""
    request = ExportMetricsServiceRequest()
    for s in range(first, first + series // len(ROUTES)):
        rm = request.resource_metrics.add()
        rm.resource.attributes.add(key="service.name").value.string_value = f"svc-{s}"
        metric = rm.scope_metrics.add().metrics.add(name=METRIC)
        points = [
            PointSpec(
                {"hybrid_routing.route": route, "hybrid_routing.outcome": "success"},
                t,
                start=t - 15,
                bounds=DURATION_BUCKETS,
                counts=counts,
            )
            for route in ROUTES
        ]
        add_metric(metric, "histogram", points, "delta")
    return request


def ms(values: list[float]) -> str:
    values = sorted(values)
    p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
    return (
        f"median {statistics.median(values) * 1e3:7.2f} ms  p99 {p99 * 1e3:7.2f} ms  "
        f"max {values[-1] * 1e3:7.2f} ms  (n={len(values)})"
    )


def evaluation_cost(series: int, runs: int, rules: list[dict[str, Any]]) -> None:
    t0 = 1_800_000_000.0
    rule_set = RuleSet(tuple(decode_rule(r, f"rules[{i}]") for i, r in enumerate(rules)))
    engine = Engine(EngineSettings(rules=rule_set, max_series=series * 2), None, t0)
    t = t0
    for _ in range(20):  # fill 5 minutes of windows
        t += 15
        engine.ingest(batch(t, series, HEALTHY), Tick(t))
    engine.evaluate(Tick(t))
    active = engine.series_count()
    changed, changed_cpu, quiet, ingest = [], [], [], []
    for _ in range(runs):
        t += 15
        req = batch(t, series, HEALTHY)
        start = time.perf_counter()
        engine.ingest(req, Tick(t))
        ingest.append(time.perf_counter() - start)
        start, cpu = time.perf_counter(), time.process_time()
        engine.evaluate(Tick(t))
        changed.append(time.perf_counter() - start)
        changed_cpu.append(time.process_time() - cpu)
        start = time.perf_counter()
        engine.evaluate(Tick(t + 1))
        quiet.append(time.perf_counter() - start)
    names = "+".join(r["alert"] for r in rules)
    print(f"evaluation, {names}: {active} active rule series")
    print(f"  every series changed, wall: {ms(changed)}")
    print(f"  every series changed, CPU:  {ms(changed_cpu)}")
    print(f"  nothing changed, wall:      {ms(quiet)}")
    print(f"  (ingest of that batch, {series} points, wall: {ms(ingest)})")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  (peak RSS of the process so far: {rss:.0f} MiB)")


class Stamp:
    def __init__(self) -> None:
        self.arrived: list[float] = []

    async def consume(self, data: Data) -> None:
        self.arrived.append(time.perf_counter())


async def alert_latency(series: int, runs: int) -> None:
    clock_t = [1_800_000_000.0]
    raw = {
        "rules": [LATENCY],
        "group_by": ["alertname", "service.name", "hybrid_routing.route"],
        "group_wait": "0s",
        "group_interval": "1s",
        "max_series": series * 2,
    }
    cfg = decode(Config, raw, "connectors::routewatch_alerts")
    settings = CreateSettings(
        ComponentID("routewatch_alerts"), Kind.CONNECTOR, Telemetry(), logging.getLogger("bench")
    )
    sink = Stamp()
    conn = AlertsConnector(settings, cfg, sink, clock=lambda: clock_t[0])

    class NoHost:
        def get_extension(self, id: ComponentID) -> None:
            return None

    await conn.start(NoHost(), run_loop=False)
    for _ in range(20):
        clock_t[0] += 15
        await conn.consume(batch(clock_t[0], series, HEALTHY))
    latencies = []
    for i in range(runs):
        clock_t[0] += 15
        crossing = batch(clock_t[0], len(ROUTES), SLOW, first=i % (series // len(ROUTES)))
        before = len(sink.arrived)
        start = time.perf_counter()
        await conn.consume(crossing)
        assert len(sink.arrived) == before + 1, "the crossing batch did not alert"
        latencies.append(sink.arrived[-1] - start)
        clock_t[0] += 400  # let it resolve (window 5m) so the next run triggers again
        await conn.run_once()
    await conn.shutdown()
    print(f"in-process latency, crossing batch -> alert record at next consumer ({series} series):")
    print(f"  {ms(latencies)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} on {os.cpu_count()} CPUs (wall times grow with load)")
    evaluation_cost(args.series, args.runs, [LATENCY])
    evaluation_cost(args.series, args.runs, [LATENCY, SUCCESS])
    asyncio.run(alert_latency(args.series, args.runs))


if __name__ == "__main__":
    main()
