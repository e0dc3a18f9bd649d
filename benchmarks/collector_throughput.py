"""Collector throughput: spans/s and metric points/s end to end, and the collector's CPU, RSS
and health latency at a steady 10k spans/s. Prints figures; not a pass/fail test.

Three processes on this machine, as the issue asks:
- the sink: this process, serving `tests/support/otlp_sink` (OTLP/gRPC; a thread counts and
  clears what it recorded so that memory stays flat);
- the collector under test, a subprocess;
- the load generator, a subprocess sending pre-built requests of 512 spans (or 512 metric
  points) over OTLP/gRPC, with N calls in flight, as fast as it can or at a fixed rate.

Collector modes (`--mode`):
- `pipeline` (default): `routewatch run` with otlp receiver -> batch -> otlp exporter (with its
  default sending queue and retry) + health_check, the real pipeline. The generated config
  must pass `routewatch validate`.
- `direct`: the otlp receiver wired straight to the otlp exporter in one asyncio process (no
  batch processor, no queue, no health endpoint): a floor to compare the pipeline with.

Phases, on one collector process: first the steady 10k spans/s (CPU and RSS measured over a
window without probes, then the health endpoint probed under the same load), then the
max-rate phases (spans, metric points). Steady comes first so that its RSS is the collector's
at that load, not what the allocator kept from a max-rate burst (printed separately).

Run: `.tools/bin/uv run --no-sync python benchmarks/collector_throughput.py [--quick]`
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

SPANS_PER_REQUEST = 512
POINTS_PER_REQUEST = 512
STEADY_RATE = 10_000
TRACE_METHOD = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
METRICS_METHOD = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export"


# --- payloads --------------------------------------------------------------------------------


def trace_request(spans: int) -> Any:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    base = 1_767_225_600_000_000_000
    return ExportTraceServiceRequest(
        resource_spans=[
            {
                "resource": {
                    "attributes": [
                        {"key": "service.name", "value": {"string_value": "router"}},
                        {"key": "host.name", "value": {"string_value": "bench-1"}},
                    ]
                },
                "scope_spans": [
                    {
                        "scope": {"name": "routewatch.instrumentation", "version": "0.1.0"},
                        "spans": [
                            {
                                "trace_id": i.to_bytes(16, "big"),
                                "span_id": (i + 1).to_bytes(8, "big"),
                                "parent_span_id": (i + 2).to_bytes(8, "big"),
                                "name": "chat anthropic.claude",
                                "kind": 3,
                                "start_time_unix_nano": base + i,
                                "end_time_unix_nano": base + i + 250_000_000,
                                "attributes": [
                                    {
                                        "key": "gen_ai.operation.name",
                                        "value": {"string_value": "chat"},
                                    },
                                    {
                                        "key": "gen_ai.provider.name",
                                        "value": {"string_value": "aws.bedrock"},
                                    },
                                    {
                                        "key": "hybrid_routing.route",
                                        "value": {"string_value": "direct"},
                                    },
                                    {
                                        "key": "gen_ai.usage.input_tokens",
                                        "value": {"int_value": 812},
                                    },
                                    {
                                        "key": "gen_ai.usage.output_tokens",
                                        "value": {"int_value": 240},
                                    },
                                ],
                                "status": {"code": 1},
                            }
                            for i in range(spans)
                        ],
                    }
                ],
            }
        ]
    )


def metrics_request(points: int) -> Any:
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
        ExportMetricsServiceRequest,
    )

    base = 1_767_225_600_000_000_000
    return ExportMetricsServiceRequest(
        resource_metrics=[
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"string_value": "router"}}]
                },
                "scope_metrics": [
                    {
                        "metrics": [
                            {
                                "name": "hybrid_routing.attempts",
                                "sum": {
                                    "aggregation_temporality": 2,
                                    "is_monotonic": True,
                                    "data_points": [
                                        {
                                            "attributes": [
                                                {"key": "route", "value": {"string_value": f"r{i}"}}
                                            ],
                                            "start_time_unix_nano": base,
                                            "time_unix_nano": base + i,
                                            "as_int": i,
                                        }
                                        for i in range(points)
                                    ],
                                },
                            }
                        ]
                    }
                ],
            }
        ]
    )


# --- roles -----------------------------------------------------------------------------------


async def run_loadgen(args: argparse.Namespace) -> None:
    """Send pre-serialised requests; print one JSON line of what was acknowledged."""
    import grpc

    if args.signal == "traces":
        items = args.spans_per_request
        payload, method = trace_request(items), TRACE_METHOD
    else:
        payload, method, items = (
            metrics_request(POINTS_PER_REQUEST),
            METRICS_METHOD,
            POINTS_PER_REQUEST,
        )
    body = payload.SerializeToString()
    sent = failed = 0
    deadline = time.monotonic() + args.duration
    interval = items / args.rate if args.rate else 0.0
    async with grpc.aio.insecure_channel(
        args.target, options=[("grpc.max_send_message_length", 64 * 1024 * 1024)]
    ) as channel:
        call = channel.unary_unary(method)
        next_at = time.monotonic()

        async def worker() -> None:
            nonlocal sent, failed, next_at
            while time.monotonic() < deadline:
                if interval:
                    now = time.monotonic()
                    wait, next_at = next_at - now, max(next_at, now) + interval
                    if wait > 0:
                        await asyncio.sleep(wait)
                try:
                    await call(body, timeout=10)
                    sent += items
                except grpc.aio.AioRpcError:
                    failed += items

        workers = 1 if interval else args.concurrency
        await asyncio.gather(*(worker() for _ in range(workers)))
    print(json.dumps({"sent": sent, "failed": failed}), flush=True)


async def run_direct_collector(args: argparse.Namespace) -> None:
    """The otlp receiver wired straight to the otlp exporter (no batch, no queue)."""
    import logging

    from routewatch.collector.component import ComponentID, CreateSettings, Kind, Signal
    from routewatch.collector.confmap import decode
    from routewatch.collector.exporters.otlp import factory as exporter_factory
    from routewatch.collector.receivers.otlp import factory as receiver_factory
    from routewatch.collector.telemetry import Telemetry

    telemetry = Telemetry()
    logger = logging.getLogger("bench")
    exporter_config = decode(
        type(exporter_factory.create_default_config()),
        # Loopback: gzip would cost more CPU than the network it saves.
        {"endpoint": args.sink, "tls": {"insecure": True}, "compression": "none"},
        "exporters::otlp",
        exporter_factory.create_default_config(),
    )
    exporters = {}
    for signal_ in (Signal.TRACES, Signal.METRICS):
        settings = CreateSettings(ComponentID("otlp"), Kind.EXPORTER, telemetry, logger)
        exporters[signal_] = exporter_factory.FACTORY.create[signal_](
            settings, exporter_config, None
        )
        await exporters[signal_].start(None)
    receiver_config = decode(
        type(receiver_factory.create_default_config()),
        {"protocols": {"grpc": {"endpoint": args.target}}},
        "receivers::otlp",
        receiver_factory.create_default_config(),
    )
    settings = CreateSettings(ComponentID("otlp"), Kind.RECEIVER, telemetry, logger)
    receiver = receiver_factory.FACTORY.create[Signal.TRACES](
        settings, receiver_config, exporters[Signal.TRACES]
    )
    receiver.add_consumer(Signal.METRICS, exporters[Signal.METRICS])
    await receiver.start(None)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print("READY", flush=True)
    await stop.wait()
    await receiver.shutdown()
    for exporter in exporters.values():
        await exporter.shutdown()


PIPELINE_CONFIG = """\
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: {target}
processors:
  batch: {{}}
exporters:
  otlp:
    endpoint: {sink}
    tls: {{insecure: true}}
    compression: none
extensions:
  health_check:
    endpoint: {health}
service:
  extensions: [health_check]
  pipelines:
    traces: {{receivers: [otlp], processors: [batch], exporters: [otlp]}}
    metrics: {{receivers: [otlp], processors: [batch], exporters: [otlp]}}
"""


# --- orchestration ---------------------------------------------------------------------------


def free_port() -> int:
    from support.ports import free_port as _free_port

    return _free_port()


def wait_listening(port: int, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"collector exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.1)
    raise SystemExit(f"collector did not listen on {port} within {timeout}s")


def start_collector(mode: str, target: str, sink: str, health: str) -> subprocess.Popen[bytes]:
    if mode == "pipeline":
        config = Path(tempfile.mkdtemp()) / "bench.yaml"
        config.write_text(PIPELINE_CONFIG.format(target=target, sink=sink, health=health))
        cmd = ["routewatch", "run", "--config", str(config)]
    else:
        cmd = [sys.executable, __file__, "--role", "collector", "--target", target, "--sink", sink]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL)


def pipeline_available(target: str, sink: str, health: str) -> bool:
    config = Path(tempfile.mkdtemp()) / "bench.yaml"
    config.write_text(PIPELINE_CONFIG.format(target=target, sink=sink, health=health))
    try:
        result = subprocess.run(
            ["routewatch", "validate", "--config", str(config)], capture_output=True, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


class SinkCounter:
    """Counts and forgets what the otlp_sink recorded."""

    def __init__(self, sink: Any) -> None:
        self.sink = sink
        self.spans = 0
        self.points = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def drain(self) -> tuple[int, int]:
        from routewatch.collector.component import Signal
        from routewatch.collector.obsreport import count_items

        with self.sink.lock:
            traces, self.sink.traces = self.sink.traces, []
            metrics, self.sink.metrics = self.sink.metrics, []
        self.spans += sum(count_items(Signal.TRACES, r) for r in traces)
        self.points += sum(count_items(Signal.METRICS, r) for r in metrics)
        return self.spans, self.points

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            self.drain()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


def loadgen(
    target: str,
    signal_: str,
    duration: float,
    rate: int,
    concurrency: int,
    spans_per_request: int = SPANS_PER_REQUEST,
) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable, __file__, "--role", "loadgen", "--target", target, "--signal", signal_,
        "--duration", str(duration), "--rate", str(rate), "--concurrency", str(concurrency),
        "--spans-per-request", str(spans_per_request),
    ]  # fmt: skip
    return subprocess.Popen(cmd, stdout=subprocess.PIPE)


def measure_max(
    counter: SinkCounter, target: str, signal_: str, duration: float, concurrency: int
) -> float:
    """Items/s arriving at the sink, over the load's run minus a warm-up second."""
    proc = loadgen(target, signal_, duration, 0, concurrency)
    time.sleep(1.0)
    index = 0 if signal_ == "traces" else 1
    start_items, start = counter.drain()[index], time.monotonic()
    proc.wait()
    end_items, end = counter.drain()[index], time.monotonic()
    return (end_items - start_items) / (end - start)


def health_latencies(url: str, stop: threading.Event, out: list[float]) -> None:
    """GET `url` every 20 ms on one kept-alive connection; record seconds per request."""
    host, _, rest = url.removeprefix("http://").partition("/")
    conn = http.client.HTTPConnection(host, timeout=5)
    while not stop.wait(0.02):
        begin = time.perf_counter()
        try:
            conn.request("GET", "/" + rest)
            conn.getresponse().read()
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection(host, timeout=5)
            continue
        out.append(time.perf_counter() - begin)


def measure_steady(
    counter: SinkCounter,
    target: str,
    collector_pid: int,
    duration: float,
    health_url: str | None,
    spans_per_request: int = SPANS_PER_REQUEST,
) -> dict[str, Any]:
    """At STEADY_RATE: CPU and RSS over the first half of the window (no probes), health
    latency over the second half (probes every 20 ms on a kept-alive connection)."""
    import psutil

    proc = psutil.Process(collector_pid)
    warmup = min(3.0, duration / 4)
    load = loadgen(target, "traces", duration + warmup, STEADY_RATE, 1, spans_per_request)
    time.sleep(warmup)  # connections, allocator, caches
    half = duration / 2

    def window(seconds: float) -> tuple[float, float, float, list[int]]:
        cpu_start, wall_start = sum(proc.cpu_times()[:2]), time.monotonic()
        spans_start = counter.drain()[0]
        rss: list[int] = []
        while time.monotonic() - wall_start < seconds and load.poll() is None:
            rss.append(proc.memory_info().rss)
            time.sleep(0.25)
        wall = time.monotonic() - wall_start
        cpu = sum(proc.cpu_times()[:2]) - cpu_start
        return 100 * cpu / wall, (counter.drain()[0] - spans_start) / wall, wall, rss

    cpu, rate, _, rss_samples = window(half)
    result: dict[str, Any] = {
        "spans_per_s": rate,
        "cpu_percent_of_one_core": cpu,
        "rss_mib_max": max(rss_samples) / 2**20,
        "rss_mib_median": statistics.median(rss_samples) / 2**20,
    }
    if health_url:
        stop, latencies = threading.Event(), []
        prober = threading.Thread(target=health_latencies, args=(health_url, stop, latencies))
        prober.start()
        probed_cpu, _, _, probed_rss = window(half)
        stop.set()
        prober.join()
        result["cpu_percent_probed"] = probed_cpu
        result["rss_mib_max"] = max(rss_samples + probed_rss) / 2**20
        if latencies:
            latencies.sort()
            result["health_p99_ms"] = 1000 * latencies[int(0.99 * (len(latencies) - 1))]
            result["health_samples"] = len(latencies)
    load.wait()
    return result


def main(args: argparse.Namespace) -> None:
    import psutil
    from support.otlp_sink import otlp_sink

    scale = 0.5 if args.quick else 1.0
    target = f"127.0.0.1:{free_port()}"
    health_port = free_port()
    health = f"127.0.0.1:{health_port}"
    with otlp_sink() as sink:
        mode = args.mode
        if mode == "pipeline" and not pipeline_available(target, sink.endpoint, health):
            raise SystemExit("routewatch validate refused the pipeline config")
        health_url = f"http://{health}/" if mode == "pipeline" else args.health_url
        counter = SinkCounter(sink)
        collector = start_collector(mode, target, sink.endpoint, health)
        try:
            wait_listening(int(target.rpartition(":")[2]), collector)
            steady = measure_steady(
                counter, target, collector.pid, 20 * scale, health_url, args.spans_per_request
            )
            spans = measure_max(counter, target, "traces", 10 * scale, args.concurrency)
            points = measure_max(counter, target, "metrics", 8 * scale, args.concurrency)
            rss_after_max = psutil.Process(collector.pid).memory_info().rss / 2**20
        finally:
            collector.send_signal(signal.SIGTERM)
            try:
                collector.wait(15)
            except subprocess.TimeoutExpired:
                collector.kill()
            counter.close()
    load = os.getloadavg()
    print(
        f"collector_throughput (mode={mode}; {os.cpu_count()} cores; "
        f"load avg {load[0]:.2f} {load[1]:.2f} {load[2]:.2f})"
    )
    print(f"  max spans/s end to end          {spans:>12,.0f}   (target >= 200,000)")
    print(f"  max metric points/s end to end  {points:>12,.0f}")
    delivered, cpu = steady["spans_per_s"], steady["cpu_percent_of_one_core"]
    print(
        f"  steady load: spans/s delivered  {delivered:>12,.0f}   "
        f"(offered {STEADY_RATE:,}, {args.spans_per_request} spans per request)"
    )
    # The peer: the Go collector's testbed at 10k spans/s, 7-11% of a core and 55 MiB.
    print(f"    collector CPU, % of one core  {cpu:>12.1f}   (target <= 5; Go testbed 7-11)")
    rss = steady["rss_mib_max"]
    print(f"    collector RSS, MiB (max)      {rss:>12.1f}   (target <= 100; Go testbed 55)")
    if "health_p99_ms" in steady:
        print(
            f"    health p99, ms                {steady['health_p99_ms']:>12.2f}   "
            f"(target < 10; {steady['health_samples']} samples)"
        )
        print(f"    collector CPU while probed    {steady['cpu_percent_probed']:>12.1f}")
    else:
        print(
            "    health p99                    n/a (no health endpoint in this mode; --health-url)"
        )
    print(f"  collector RSS after max phases  {rss_after_max:>12.1f}   (MiB; allocator high water)")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--role", choices=["main", "loadgen", "collector"], default="main")
    parser.add_argument("--mode", choices=["pipeline", "direct"], default="pipeline")
    parser.add_argument("--quick", action="store_true", help="half-length phases")
    parser.add_argument(
        "--concurrency", type=int, default=8, help="calls in flight (max-rate phases)"
    )
    parser.add_argument("--health-url", default=None, help="probe this URL during the steady phase")
    parser.add_argument("--target", default="")
    parser.add_argument("--sink", default="")
    parser.add_argument("--signal", choices=["traces", "metrics"], default="traces")
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--rate", type=int, default=0, help="items/s; 0 = as fast as possible")
    parser.add_argument(
        "--spans-per-request",
        type=int,
        default=SPANS_PER_REQUEST,
        help="spans per export at the steady rate (the SDK's BatchSpanProcessor sends up to 512)",
    )
    return parser.parse_args()


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.role == "loadgen":
        asyncio.run(run_loadgen(arguments))
    elif arguments.role == "collector":
        asyncio.run(run_direct_collector(arguments))
    else:
        main(arguments)
