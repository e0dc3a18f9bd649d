"""EMF throughput: data points per second, routewatch against aws-opentelemetry-distro.

1. SDK path: identical OTel SDK `MetricsData` (counters and explicit-bucket histograms,
   delta) exported to a null sink by routewatch's `CloudWatchEMFMetricExporter` and by
   aws-opentelemetry-distro's EMF exporter (its `BaseEmfExporter` with a no-op `_export`).
   The distro pins other OpenTelemetry versions than our lock, so its half runs in a side
   virtualenv (created with `uv` under the temp dir, reused across runs) in a subprocess that
   rebuilds the same data from the same parameters and seed.
2. Collector path: the same data as an OTLP `ExportMetricsServiceRequest` (encoded once by
   upstream's encoder, untimed), to EMF bytes as the `awsemf` exporter does it (a batch of
   its encoder, the OTLP reader, the batch's events). The headline starts from the
   serialised request, as the OTLP receiver hands it to `awsemf` (`read_otlp_metrics_bytes`:
   its views parsed from those bytes, nothing else); also from the request message (what
   callers that hold one use: `read_otlp_metrics` serialises it first), and from the bytes
   with the reader's cache of attribute columns emptied before each run (as for a request
   whose metrics carry attribute sets in an order not seen before; per attribute set caches
   stay warm).

All of them are timed in CPU time, run after run in alternation (the order rotated each
round), each keeping its best run;
the distro's figure also gives this machine's speed against the issue's reference machine
(where the distro does ~325,000 points/s), by which the collector figure is scaled.

Other data (the headline is the default): `--mix histograms|counters|gauges|mixed`,
`--buckets N`, `--attributes N`, `--temporality delta|cumulative` (cumulative data grows
export after export by the same increments, so that both exporters always have data to send);
`--source sdk` records the data through a `MeterProvider` instead of building the points
(the SDK's own point objects: each series holds its own tuple of bucket bounds, say), and
with `--exemplars` inside sampled spans, so that points carry exemplars with trace ids;
`--matrix` compares the SDK path over a set of such mixes and prints the ratio of each.

Run: `.tools/bin/uv run --no-sync python benchmarks/emf_throughput.py [--points 10000]`.
`--skip-distro` measures routewatch only (no network needed); `--skip-collector`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

DISTRO = "aws-opentelemetry-distro==0.21.0"
# The distro's throughput on the reference machine, for scaling absolute figures.
DISTRO_REFERENCE_RATE = 325_000
DURATION_BOUNDS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48]
DURATION_BOUNDS += [40.96, 81.92]


# -- the data: needs only opentelemetry-sdk (both interpreters build it) -------------------------


def make_metrics_data(
    points: int,
    metrics: int,
    seed: int,
    mix: str = "mixed",
    attributes: int = 5,
    buckets: int = 15,
    temporality: str = "delta",
    rnd_round: int = 0,
) -> Any:
    """`points` points over `metrics` metrics of `mix` (`mixed`: counters and histograms,
    alternating). Cumulative data of round `r` is `r + 1` times the increments, and its time
    `r` minutes later: each round converts to the same deltas. The attribute mappings are the
    same objects round after round, as the SDK's are (each aggregation keeps its own)."""
    from opentelemetry.sdk.metrics.export import (
        AggregationTemporality,
        Buckets,
        ExponentialHistogram,
        ExponentialHistogramDataPoint,
        Gauge,
        Histogram,
        HistogramDataPoint,
        Metric,
        MetricsData,
        NumberDataPoint,
        ResourceMetrics,
        ScopeMetrics,
        Sum,
    )
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.util.instrumentation import InstrumentationScope

    rnd = random.Random(seed)
    per_metric = points // metrics
    scale = rnd_round + 1
    start = 1_700_000_000_000_000_000 - 60 * 10**9
    now = start + 60 * 10**9 * scale
    temp = AggregationTemporality[temporality.upper()]
    bounds = bucket_bounds(buckets)
    spread = max_observations(buckets)
    attr_sets = attribute_sets(per_metric, metrics, attributes)
    out = []
    for i in range(metrics):
        kind = metric_kind(mix, i)
        attrs = attr_sets[i]
        if kind == "counters":
            dps = [NumberDataPoint(a, start, now, rnd.randint(1, 1000) * scale) for a in attrs]
            data: Any = Sum(dps, temp, True)
            out.append(Metric(f"hybrid_routing.counter{i}", None, "{request}", data))
        elif kind == "exponential":
            eps = []
            for a in attrs:
                obs = [rnd.expovariate(1.0) for _ in range(rnd.randint(1, spread))]
                # scale 3: bucket i holds (2**(i/8), 2**((i+1)/8)]
                index = [math.ceil(math.log2(v) * 8) - 1 for v in obs]
                offset = min(index)
                counts = [0] * (max(index) - offset + 1)
                for k in index:
                    counts[k - offset] += 1
                eps.append(
                    ExponentialHistogramDataPoint(
                        attributes=a,
                        start_time_unix_nano=start,
                        time_unix_nano=now,
                        count=len(obs) * scale,
                        sum=sum(obs) * scale,
                        scale=3,
                        zero_count=0,
                        positive=Buckets(offset, [c * scale for c in counts]),
                        negative=Buckets(0, []),
                        flags=0,
                        min=min(obs),
                        max=max(obs),
                    )
                )
            data = ExponentialHistogram(eps, temp)
            out.append(Metric(f"hybrid_routing.latency{i}", None, "s", data))
        elif kind == "gauges":
            dps = [NumberDataPoint(a, start, now, rnd.uniform(0, 100)) for a in attrs]
            out.append(Metric(f"hybrid_routing.level{i}", None, "{request}", Gauge(dps)))
        else:
            hps = []
            for a in attrs:
                obs = [rnd.expovariate(1.0) for _ in range(rnd.randint(1, spread))]
                counts = [0] * (len(bounds) + 1)
                for v in obs:
                    counts[sum(1 for b in bounds if b < v)] += 1
                hps.append(
                    HistogramDataPoint(
                        a,
                        start,
                        now,
                        len(obs) * scale,
                        sum(obs) * scale,
                        [c * scale for c in counts],
                        bounds,
                        min(obs),
                        max(obs),
                    )
                )
            data = Histogram(hps, temp)
            out.append(Metric(f"hybrid_routing.duration{i}", None, "s", data))
    scope = ScopeMetrics(InstrumentationScope("bench"), out, "")
    resource = Resource({"service.name": "router", "service.namespace": "hybrid"})
    return MetricsData([ResourceMetrics(resource, [scope], "")])


def metric_kind(mix: str, i: int) -> str:
    """The kind of metric `i` of `mix` (`mixed`: counters and histograms, alternating)."""
    return mix if mix != "mixed" else ("counters" if i % 2 == 0 else "histograms")


def max_observations(buckets: int) -> int:
    """A histogram point holds 1 to this many observations (drawn per point)."""
    return 40 if buckets == 15 else max(40, 2 * buckets)


def bucket_bounds(buckets: int) -> list[float]:
    """The default 15 buckets: durations doubling from 10 ms; otherwise linear up to 8 s (so
    that observations spread over many of them)."""
    if buckets == 15:
        return DURATION_BOUNDS
    return [round(8 * k / (buckets - 1), 6) for k in range(1, buckets)]


_ATTRIBUTE_SETS: dict[tuple[int, int, int], list[list[dict[str, str]]]] = {}


def attribute_sets(per_metric: int, metrics: int, attributes: int) -> list[list[dict[str, str]]]:
    """Each metric's attribute mappings: distinct sets of `attributes` keys, created once."""
    key = (per_metric, metrics, attributes)
    if key in _ATTRIBUTE_SETS:
        return _ATTRIBUTE_SETS[key]
    routes = ["direct", "mcp", "cache", "fallback", "other"]
    operations = ["emergency", "infrastructure", "meta_monitor", "implementation", "standard"]
    models = ["claude-3-5-sonnet", "claude-3-haiku", "titan", "_OTHER"]
    regions = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-south-1"]
    base = [
        {
            "hybrid_routing.route": r,
            "hybrid_routing.operation": o,
            "gen_ai.request.model": m,
            "cloud.region": g,
            "deployment.environment": "prod",
        }
        for r in routes
        for o in operations
        for m in models
        for g in regions
    ][:per_metric]
    while len(base) < per_metric:
        base.append({**base[len(base) % 500], "shard": str(len(base))})
    if attributes > 5:
        extra = range(attributes - 5)
        base = [
            {**a, **{f"extra.key{j}": f"v{j}-{n % 7}" for j in extra}} for n, a in enumerate(base)
        ]
    elif attributes < 5:
        base = [
            {**dict(list(a.items())[: attributes - 1]), "series": str(n)}
            for n, a in enumerate(base)
        ]
    found = _ATTRIBUTE_SETS[key] = [[dict(a) for a in base] for _ in range(metrics)]
    return found


class Recorder:
    """`--source sdk`: the data as an application produces it, measurements recorded through
    a `MeterProvider` and collected by an `InMemoryMetricReader` (the SDK's own points,
    attribute mappings, bucket counts and timestamps). Each collection records one round of
    measurements for every series: `points // metrics` attribute sets per instrument."""

    def __init__(self, a: argparse.Namespace) -> None:
        from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider
        from opentelemetry.sdk.metrics.export import (
            AggregationTemporality,
            InMemoryMetricReader,
        )
        from opentelemetry.sdk.metrics.view import (
            ExplicitBucketHistogramAggregation,
            ExponentialBucketHistogramAggregation,
            View,
        )
        from opentelemetry.sdk.resources import Resource

        temp = AggregationTemporality[a.temporality.upper()]
        self.reader = InMemoryMetricReader(preferred_temporality={Counter: temp, Histogram: temp})
        if a.mix == "exponential":
            aggregation: Any = ExponentialBucketHistogramAggregation()
        else:
            aggregation = ExplicitBucketHistogramAggregation(bucket_bounds(a.buckets))
        provider = MeterProvider(
            metric_readers=[self.reader],
            resource=Resource({"service.name": "router", "service.namespace": "hybrid"}),
            views=[View(instrument_type=Histogram, aggregation=aggregation)],
        )
        meter = provider.get_meter("bench")
        self.rnd = random.Random(a.seed)
        # `--exemplars`: each series' measurements of a round inside a sampled span, as an
        # instrumented router records them (the SDK then keeps exemplars with trace ids)
        self.tracer = None
        if a.exemplars:
            from opentelemetry.sdk.trace import TracerProvider

            self.tracer = TracerProvider().get_tracer("bench")
        self.spread = max_observations(a.buckets)
        self.attrs = attribute_sets(a.points // a.metrics, 1, a.attributes)[0]
        self.instruments: list[tuple[str, Any]] = []
        for i in range(a.metrics):
            kind = metric_kind(a.mix, i)
            if kind == "counters":
                inst: Any = meter.create_counter(f"hybrid_routing.counter{i}", unit="{request}")
            elif kind == "gauges":
                inst = meter.create_gauge(f"hybrid_routing.level{i}", unit="{request}")
            else:
                inst = meter.create_histogram(f"hybrid_routing.duration{i}", unit="s")
            self.instruments.append((kind, inst))

    def collect(self) -> Any:
        for kind, inst in self.instruments:
            for a in self.attrs:
                if self.tracer is None:
                    self._record(kind, inst, a)
                    continue
                with self.tracer.start_as_current_span("request"):
                    self._record(kind, inst, a)
        return self.reader.get_metrics_data()

    def _record(self, kind: str, inst: Any, a: dict[str, str]) -> None:
        rnd = self.rnd
        if kind == "counters":
            inst.add(rnd.randint(1, 1000), a)
        elif kind == "gauges":
            inst.set(rnd.uniform(0, 100), a)
        else:
            for _ in range(rnd.randint(1, self.spread)):
                inst.record(rnd.expovariate(1.0), a)


class DataSource:
    """The data of each export: one object for delta data (exported again and again), the
    next round's for cumulative data (built before the export, untimed)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.round = 0
        self.recorder = Recorder(args) if args.source == "sdk" else None
        self.first = self._make(0)

    def _make(self, rnd_round: int) -> Any:
        a = self.args
        if self.recorder is not None:
            return self.recorder.collect()
        return make_metrics_data(
            a.points, a.metrics, a.seed, a.mix, a.attributes, a.buckets, a.temporality, rnd_round
        )

    def next(self) -> Any:
        if self.args.temporality == "delta":
            return self.first
        self.round += 1
        return self._make(self.round)


def load_average() -> str:
    """The machine's 1, 5 and 15 minute load averages: the figures depend on its neighbours."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def cpu_seconds(run: Callable[[], object]) -> float:
    """CPU seconds of one call.

    CPU time of this process, not wall time: the benchmark runs on machines shared with other
    work, where wall time mostly measures the neighbours. Both exporters are timed the same
    way, run after run in alternation, and each keeps its best run (as timeit does).
    """
    t0 = time.process_time()
    run()
    return time.process_time() - t0


# -- routewatch ----------------------------------------------------------------------------


class NullSink:
    def __init__(self) -> None:
        self.bytes = 0
        self.events = 0

    def write(self, events: Any) -> None:
        for evs in events.values():
            self.events += len(evs)
            self.bytes += sum(len(m) for _, m in evs)

    def flush(self) -> None:
        pass

    def shutdown(self) -> None:
        pass


def routewatch_sdk_exporter(args: argparse.Namespace) -> tuple[Callable[[], float], NullSink]:
    """One timed export per call of the returned function."""
    from routewatch.exporters.emf import CloudWatchEMFMetricExporter

    source = DataSource(args)
    sink = NullSink()
    exporter = CloudWatchEMFMetricExporter("HybridRouting", sink=sink)
    exporter.export(source.first)

    def run() -> float:
        data = source.next()
        return cpu_seconds(lambda: exporter.export(data))

    return run, sink


def collector_path(
    args: argparse.Namespace,
) -> tuple[dict[str, Callable[[], float]], dict[str, int]]:
    """Timed runs of the collector path: from the serialised request (as the receiver hands
    it on), from the request message, and from the bytes with new attribute columns."""
    from opentelemetry.exporter.otlp.proto.common._internal.metrics_encoder import (
        encode_metrics,
    )

    from routewatch.exporters.emf import (
        EmfConfig,
        EmfEncoder,
        read_otlp_metrics,
        read_otlp_metrics_bytes,
    )
    from routewatch.exporters.emf.otlp_reader import COLUMNS, STABLE_ATTRIBUTES

    source = DataSource(args)
    encoder = EmfEncoder(EmfConfig(namespace="HybridRouting"))
    info = {"bytes": 0, "request_bytes": 0}

    def request() -> Any:
        message = encode_metrics(source.next())
        info["request_bytes"] = message.ByteSize()
        return message

    def timed_emf(read: Callable[[Any], None]) -> float:
        # as AwsEmfExporter._export: a batch, the reader, the events for the sink
        def run() -> None:
            batch = encoder.batch(stable_attributes=STABLE_ATTRIBUTES)
            read(batch)
            info["bytes"] = sum(len(m) for evs in batch.events().values() for _, m in evs)

        return cpu_seconds(run)

    # delta data: one request, reused (as its bytes); cumulative: a new one each run
    message = encode_metrics(source.first)
    payload = message.SerializeToString()
    info["request_bytes"] = len(payload)

    def from_bytes() -> float:
        data = payload if args.temporality == "delta" else request().SerializeToString()
        return timed_emf(lambda batch: read_otlp_metrics_bytes(batch, data))

    def from_message() -> float:
        data = message if args.temporality == "delta" else request()
        return timed_emf(lambda batch: read_otlp_metrics(batch, data))

    def new_columns() -> float:
        COLUMNS.clear()
        return from_bytes()

    from_bytes()
    runs: dict[str, Callable[[], float]] = {
        "bytes": from_bytes,
        "message": from_message,
        "new_columns": new_columns,
    }
    return runs, info


# -- aws-opentelemetry-distro (runs inside the side venv) ------------------------------------


def distro_worker(args: argparse.Namespace) -> None:
    """In the side venv: build the same data, then time one export per `run` line on stdin."""
    from amazon.opentelemetry.distro.exporter.aws.metrics.base_emf_exporter import (
        BaseEmfExporter,
    )

    class NullEmfExporter(BaseEmfExporter):
        events = 0
        bytes = 0

        def _export(self, log_event: dict[str, Any]) -> None:
            NullEmfExporter.events += 1
            NullEmfExporter.bytes += len(log_event["message"].encode())

        def force_flush(self, timeout_millis: int = 10000) -> bool:
            return True

        def shutdown(self, timeout_millis: int | None = None, **kwargs: Any) -> bool:
            return True

    source = DataSource(args)
    exporter = NullEmfExporter("HybridRouting")
    exporter.export(source.first)
    print(json.dumps({"events": NullEmfExporter.events, "bytes": NullEmfExporter.bytes}))
    sys.stdout.flush()
    for line in sys.stdin:
        if line.strip() != "run":
            break
        print(cpu_seconds(partial(exporter.export, source.next())), flush=True)


def distro_python() -> Path:
    """A side virtualenv with the distro, created once under the temp dir."""
    root = Path(tempfile.gettempdir()) / "routewatch-emf-bench-distro"
    python = root / "bin" / "python"
    marker = root / ".installed"
    if marker.exists() and python.exists():
        return python
    uv = shutil.which("uv") or str(Path(__file__).resolve().parents[1] / ".tools" / "bin" / "uv")
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "VIRTUAL_ENV": str(root)}
    env.pop("UV_PROJECT_ENVIRONMENT", None)
    subprocess.run([uv, "venv", "-q", "-p", sys.executable, str(root)], check=True, env=env)
    subprocess.run([uv, "pip", "install", "-q", DISTRO], check=True, env=env)
    marker.touch()
    return python


class DistroProcess:
    """The distro's exporter in a subprocess of the side venv, timed one run at a time."""

    def __init__(self, args: argparse.Namespace) -> None:
        cmd = [str(distro_python()), __file__, "--distro-worker"]
        for flag in MIX_FLAGS:
            cmd += [f"--{flag}", str(getattr(args, flag))]
        if args.exemplars:
            cmd.append("--exemplars")
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
        )
        assert self.proc.stdout is not None and self.proc.stdin is not None
        self._out, self._in = self.proc.stdout, self.proc.stdin
        first = self._out.readline()
        if not first:
            raise OSError(f"distro worker exited with {self.proc.wait()}")
        self.info: dict[str, float] = json.loads(first)

    def run(self) -> float:
        self._in.write("run\n")
        self._in.flush()
        return float(self._out.readline())

    def close(self) -> None:
        self._in.close()
        self.proc.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--metrics", type=int, default=20)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--mix", choices=MIXES, default="mixed", help="mixed: counters and histograms"
    )
    parser.add_argument("--attributes", type=int, default=5, help="attributes per point (>= 1)")
    parser.add_argument("--buckets", type=int, default=15, help="buckets per histogram (>= 2)")
    parser.add_argument("--temporality", choices=("delta", "cumulative"), default="delta")
    parser.add_argument(
        "--source",
        choices=("built", "sdk"),
        default="built",
        help="built: points made directly (the default); sdk: recorded through a MeterProvider",
    )
    parser.add_argument(
        "--exemplars",
        action="store_true",
        help="with --source sdk: measurements recorded inside sampled spans (exemplars)",
    )
    parser.add_argument(
        "--matrix", action="store_true", help="the SDK path over several mixes, a ratio each"
    )
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--skip-distro", action="store_true")
    parser.add_argument("--skip-collector", action="store_true")
    parser.add_argument("--distro-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.attributes < 1 or args.buckets < 2:
        parser.error("--attributes must be at least 1 and --buckets at least 2")
    if args.distro_worker:
        distro_worker(args)
        return 0
    if not args.matrix:
        measure(args)
        return 0
    ratios = []
    for variant in MATRIX:
        mix_args = argparse.Namespace(**{**vars(args), **variant, "skip_collector": True})
        rate = measure(mix_args)
        if "distro" in rate:
            ratios.append((describe(mix_args), rate["ours"], rate["distro"]))
        print()
    print("ratio routewatch / distro per mix:")
    for text, ours, theirs in ratios:
        print(f"  {ours / theirs:5.2f}x  ({ours:>9,.0f} vs {theirs:>9,.0f} points/s)  {text}")
    return 0


MIXES = ("mixed", "histograms", "counters", "gauges", "exponential")
MIX_FLAGS = ("points", "metrics", "seed", "mix", "attributes", "buckets", "temporality", "source")
# --matrix: the headline mix, then one change at a time; then few series over many metrics
# (500 metrics of 20 points: each event carries 500 metrics, where the distro is fastest)
MATRIX: list[dict[str, Any]] = [
    {},
    {"mix": "histograms", "buckets": 40},
    {"mix": "histograms"},
    {"mix": "counters"},
    {"mix": "gauges"},
    {"attributes": 10},
    {"attributes": 1},
    {"temporality": "cumulative"},
    {"mix": "histograms", "buckets": 40, "temporality": "cumulative", "attributes": 10},
    {"mix": "exponential"},
    {"metrics": 500, "attributes": 1},
    {"metrics": 500, "attributes": 1, "mix": "histograms"},
    {"metrics": 500, "attributes": 1, "mix": "counters"},
    {"metrics": 500, "attributes": 3, "buckets": 40},
    {"source": "sdk"},
    {"source": "sdk", "attributes": 1},
    {"source": "sdk", "exemplars": True},
]


def describe(args: argparse.Namespace) -> str:
    kinds = {"mixed": "counters + histograms"}.get(args.mix, args.mix)
    buckets = f" of {args.buckets} buckets" if args.mix in ("mixed", "histograms") else ""
    return (
        f"{args.points} points, {args.metrics} metrics: {kinds}{buckets}, "
        f"{args.attributes} attributes, {args.temporality}"
        + (", recorded through the SDK" if args.source == "sdk" else "")
        + (" inside spans (exemplars)" if args.source == "sdk" and args.exemplars else "")
    )


def measure(args: argparse.Namespace) -> dict[str, float]:
    """One comparison; prints its figures and returns the rates by run name."""
    print(
        f"{describe(args)}; best CPU time of {args.repeats} alternating runs; "
        f"load average {load_average()}"
    )
    ours, sink = routewatch_sdk_exporter(args)
    distro: DistroProcess | None = None
    distro_error = ""
    if not args.skip_distro:
        try:
            distro = DistroProcess(args)
        except (subprocess.CalledProcessError, OSError, ValueError) as err:
            distro_error = str(err)
    runs: dict[str, Callable[[], float]] = {"ours": ours}
    if distro is not None:
        runs["distro"] = distro.run
    collector_info: dict[str, int] = {}
    if not args.skip_collector:
        collector_runs, collector_info = collector_path(args)
        runs.update({f"collector_{k}": run for k, run in collector_runs.items()})
    # Alternate run by run, so that load from neighbours falls on all of them alike, and
    # rotate the order each round: the run right after the distro's (another process, on the
    # same cores) starts with cold caches, and that must not always be the same one.
    best = dict.fromkeys(runs, math.inf)
    order = list(runs.items())
    for i in range(args.repeats):
        shift = i % len(order)
        for name, run in order[shift:] + order[:shift]:
            best[name] = min(best[name], run())
    rate = {name: args.points / seconds for name, seconds in best.items()}
    # the first export of cumulative data is the baseline: it sends nothing
    calls = args.repeats + (1 if args.temporality == "delta" else 0)
    print(
        f"SDK path, routewatch CloudWatchEMFMetricExporter: {rate['ours']:>12,.0f} points/s"
        f"  ({sink.events / calls:.0f} events, {sink.bytes / calls / 1e6:.2f} MB; "
        "full Values/Counts)"
    )
    machine = 0.0
    if distro is not None:
        distro.close()
        print(
            f"SDK path, aws-opentelemetry-distro EMF exporter:  {rate['distro']:>12,.0f} points/s"
            f"  ({distro.info['events']:.0f} events, {distro.info['bytes'] / 1e6:.2f} MB; "
            + ("Values/Counts too)" if args.mix == "exponential" else "count/sum/min/max only)")
        )
        print(f"ratio routewatch / distro: {rate['ours'] / rate['distro']:.2f}x")
        # The figures come from a machine where the distro does ~325k points/s; the
        # distro measured here gives this machine's speed relative to that one.
        machine = rate["distro"] / DISTRO_REFERENCE_RATE
    elif not args.skip_distro:
        print(f"SDK path, aws-opentelemetry-distro: not measured ({distro_error})")
    if args.skip_collector:
        print(f"load average at the end: {load_average()}")
        return rate
    print(
        f"collector path, OTLP request bytes (as the receiver hands them to awsemf) -> EMF: "
        f"{rate['collector_bytes']:>12,.0f} points/s  "
        f"({collector_info['request_bytes'] / 1e6:.2f} MB request, "
        f"{collector_info['bytes'] / 1e6:.2f} MB EMF)"
    )
    print(
        f"collector path, OTLP request message -> EMF:                                 "
        f"{rate['collector_message']:>12,.0f} points/s"
    )
    print(
        f"collector path, request bytes, attribute columns new:                        "
        f"{rate['collector_new_columns']:>12,.0f} points/s"
    )
    if machine:
        print(
            f"(this machine runs the distro at {machine:.2f}x its reference figure of "
            f"{DISTRO_REFERENCE_RATE:,} points/s; collector path from bytes scaled to that "
            f"machine: {rate['collector_bytes'] / machine:,.0f} points/s, an estimate)"
        )
    print(f"load average at the end: {load_average()}")
    return rate


if __name__ == "__main__":
    sys.exit(main())
