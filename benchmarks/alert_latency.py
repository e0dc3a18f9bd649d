"""Alerting latency and evaluation cost (in process).

1. Evaluation cost: one full evaluation of the rules over 10,000 active series (each with a
   5-minute window of delta histogram points every 15 s, i.e. 20 points per series), when
   every series got a new point since the last evaluation (all readings recomputed) and when
   none did (time moved on only), for one rule, two rules, and the shipped rule pack. Target:
   under 50 ms per evaluation (aim: 20 ms). The ingest of each export is printed too: it
   includes dropping what left the window (done on write, while the window is at hand).
2. In-process alert latency: from a metrics batch that crosses a threshold arriving at the
   `routewatch_alerts` connector to the alert log record reaching the next consumer
   (`for: 0`, `group_wait: 0`), with the 10,000 series loaded.
3. End-to-end alert latency: a real `routewatch run` process (otlp receiver -> routewatch_alerts
   -> logs pipeline -> pagerduty exporter) and the local PagerDuty server; from a metrics export
   that crosses the threshold (timestamped just before the OTLP/gRPC client's Export call) to
   that alert's PagerDuty request arriving at the server (its receive timestamp), both on this
   machine's wall clock. Each crossing is a new series (its own fingerprint and group), with
   `for: 0`, `group_wait: 0` and the 10,000 healthy series loaded. Target: p99 under 250 ms.
   Three variants: nothing else arriving; all 10,000 series re-exported every `--background`
   seconds meanwhile (the connector ingests such an export in slices, so a crossing that
   arrives meanwhile waits for the slice in progress, not for the whole export); and a
   default `batch` processor before the connector (its 200 ms timeout adds to every alert).
   The background exports come over their own connection, as other apps' do.

Run: `.tools/bin/uv run --no-sync python benchmarks/alert_latency.py [--series N] [--runs N]
[--crossings N] [--pace S] [--background S] [--only evaluation|in-process|e2e]`
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import os
import resource
import statistics
import sys
import tempfile
import threading
import time
from functools import partial
from pathlib import Path
from typing import Any

import grpc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2_grpc
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)

from routewatch.collector.alerting.clock import Tick
from routewatch.collector.alerting.engine import Engine, EngineSettings
from routewatch.collector.alerting.otlp_build import PointSpec, add_metric
from routewatch.collector.alerting.rules import (
    DEFAULT_RULE_FILE,
    RuleSet,
    build_rule_set,
    decode_rule,
)
from routewatch.collector.component import ComponentID, CreateSettings, Data, Kind
from routewatch.collector.confmap import decode
from routewatch.collector.connectors.routewatch_alerts.config import Config
from routewatch.collector.connectors.routewatch_alerts.connector import AlertsConnector
from routewatch.collector.devservers.pagerduty_server import pagerduty_server
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


def evaluation_cost(series: int, runs: int, rules: list[dict[str, Any]] | None) -> None:
    """`rules` None: the shipped rule pack (its rules group by route: few series, same ingest)."""
    t0 = 1_800_000_000.0
    if rules is None:
        rule_set = build_rule_set([], [str(DEFAULT_RULE_FILE)], [], "bench")
    else:
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
    names = "+".join(r["alert"] for r in rules) if rules else "default rule pack"
    load = os.getloadavg()[0]
    print(f"evaluation, {names}: {active} active rule series (load average {load:.2f})")
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


def end_to_end_latency(
    series: int, crossings: int, pace: float, background: float = 0.0, batch_processor: bool = False
) -> None:
    """Receiver -> PagerDuty server through a `routewatch run` subprocess (see the docstring).

    `background`: seconds between exports of all `series` (as apps keep exporting; each is
    ingested on the collector's event loop) while the crossings run; 0 = none.
    `batch_processor`: put a default `batch` processor (timeout 200ms) before the connector,
    as `otel-config.yaml` and the AWS example do."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from alerting.e2e.collector_proc import Collector, latency_batch

    rule = {**LATENCY, "for": "0s"}
    with tempfile.TemporaryDirectory() as tmp, pagerduty_server(rate_limit_per_minute=0) as pd:
        collector = Collector(Path(tmp))
        collector.configure(
            [rule],
            pagerduty_url=pd.url,
            # Every crossing is a new alert: no PagerDuty token bucket in the way (the
            # exporter's default, 120/min, would make this a rate-limit measurement).
            pagerduty={"events_per_minute": 1e9},
            connector={
                "evaluation_interval": "15s",
                "group_by": ["alertname", "service.name", "hybrid_routing.route"],
                "max_series": series * 2 + crossings,
            },
            processors={"batch": {}} if batch_processor else None,
        )
        collector.start()
        stop = threading.Event()
        try:
            now = time.time()
            for i in range(20):  # 5 minutes of healthy windows for `series` series
                collector.export(batch(now - 300 + 15 * (i + 1), series, HEALTHY), timeout=60)
            loaded = [
                line
                for line in collector.internal_metrics().splitlines()
                if line.startswith("routewatch_alerts_series")
            ]
            # The background exports are built before the run: building one (10,000 points in
            # Python) holds this process' GIL for a while, which would delay the local
            # PagerDuty server's receive stamps and blame the collector for it.
            exports = _background_exports(series, crossings * pace, background)
            feeder = threading.Thread(
                target=_keep_exporting, args=(collector, exports, stop), daemon=True
            )
            if background:
                feeder.start()
            latencies = []
            for i in range(crossings):
                # A new series (service) whose first export crosses: its own alert and group.
                crossing = latency_batch(20.0, 1000, resource={"service.name": f"crossing-{i}"})
                sent = time.time()
                collector.export(crossing)
                if not pd.wait_for(partial(_paged, n=i + 1), timeout=30):
                    raise RuntimeError(f"crossing {i}: no page\n{collector.log()}")
                with pd.lock:
                    received = pd.received[i]
                assert received.status == 202, received.errors
                latencies.append(received.time - sent)
                # Paced so that the run spans periodic evaluations of all series.
                time.sleep(pace)
        finally:
            stop.set()
            if feeder.is_alive():
                feeder.join()
            collector.stop()
    extras = [f"all {series} series re-exported every {background:g} s"] if background else []
    extras += ["batch processor (200 ms) before the connector"] if batch_processor else []
    print(
        f"end-to-end latency, OTLP/gRPC export that crosses -> its PagerDuty request at the "
        f"server (`routewatch run`, {crossings} crossings {pace * 1e3:.0f} ms apart, "
        f"evaluation_interval 15s{''.join(', ' + e for e in extras)}):"
    )
    print(f"  loaded: {', '.join(loaded)}; load average {os.getloadavg()[0]:.2f}")
    print(f"  {ms(latencies)}")
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    over = sum(1 for x in ordered if x > 0.25)
    print(f"  p95 {p95 * 1e3:.2f} ms; {over} of {len(ordered)} over the 250 ms target")


def _paged(server: Any, n: int) -> bool:
    return len(server.received) >= n


def _background_exports(
    series: int, duration: float, every: float
) -> list[tuple[float, ExportMetricsServiceRequest]]:
    """Exports of all series every `every` s over `duration`, the first ~1 s after this
    returns (each stamped with the time it is due)."""
    if not every:
        return []
    count = math.ceil(duration / every) + 1
    started = time.perf_counter()
    batch(time.time(), series, HEALTHY)
    build = time.perf_counter() - started
    first = time.time() + build * 1.5 * count + 1.0
    return [(first + every * k, batch(first + every * k, series, HEALTHY)) for k in range(count)]


def _keep_exporting(
    collector: Any, exports: list[tuple[float, ExportMetricsServiceRequest]], stop: threading.Event
) -> None:
    # Its own connection, as other apps have: on the crossings' connection a 3.6 MB export
    # would hold their small requests behind its HTTP/2 flow control.
    with grpc.insecure_channel(collector.endpoint) as channel:
        stub = metrics_service_pb2_grpc.MetricsServiceStub(channel)
        for t, request in exports:
            if stop.wait(max(0.0, t - time.time())):
                return
            stub.Export(request, timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--crossings", type=int, default=100, help="end-to-end crossings")
    parser.add_argument("--pace", type=float, default=0.2, help="seconds between crossings")
    parser.add_argument(
        "--background",
        type=float,
        default=5.0,
        help="end-to-end variant: re-export all series every N s during the crossings",
    )
    parser.add_argument("--only", choices=["evaluation", "in-process", "e2e"])
    args = parser.parse_args()
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} on {os.cpu_count()} CPUs (wall times grow with load)")
    if args.only in (None, "evaluation"):
        evaluation_cost(args.series, args.runs, [LATENCY])
        evaluation_cost(args.series, args.runs, [LATENCY, SUCCESS])
        evaluation_cost(args.series, args.runs, None)
    if args.only in (None, "in-process"):
        asyncio.run(alert_latency(args.series, args.runs))
    if args.only in (None, "e2e"):
        end_to_end_latency(args.series, args.crossings, args.pace)
        end_to_end_latency(args.series, args.crossings, args.pace, background=args.background)
        end_to_end_latency(args.series, args.crossings, args.pace, batch_processor=True)
    load = os.getloadavg()
    print(f"load average at the end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
