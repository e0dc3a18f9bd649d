"""Throughput of the collector core's in-process path, without network:
memory_limiter -> batch -> exporter helper (in-memory queue, 10 consumers) -> a no-op push.

Prints spans/s and metric points/s for a few request sizes. It isolates what the core adds per
request; the end-to-end figure with OTLP receivers and exporters is collector_throughput.py.

    .tools/bin/uv run --no-sync python benchmarks/collector_core_pipeline.py [seconds]
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from routewatch.collector.component import ComponentID, CreateSettings, Data, Kind, Signal
from routewatch.collector.exporterhelper import ExporterHelperConfig, new_exporter
from routewatch.collector.processors.batch.batch import BatchProcessor
from routewatch.collector.processors.batch.config import BatchConfig
from routewatch.collector.processors.memory_limiter.config import MemoryLimiterConfig
from routewatch.collector.processors.memory_limiter.memory_limiter import MemoryLimiter
from routewatch.collector.telemetry import Telemetry


class _Host:
    def get_extension(self, id: ComponentID) -> Any:
        return None


def _traces(spans: int) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    scope = request.resource_spans.add().scope_spans.add()
    for i in range(spans):
        span = scope.spans.add(name="chat anthropic.claude", kind=3)
        span.trace_id = i.to_bytes(16, "big")
        span.span_id = (i + 1).to_bytes(8, "big")
        span.attributes.add(key="hybrid_routing.route").value.string_value = "direct"
    return request


def _metrics(points: int) -> ExportMetricsServiceRequest:
    request = ExportMetricsServiceRequest()
    scope = request.resource_metrics.add().scope_metrics.add()
    for i in range(points // 10):
        metric = scope.metrics.add(name=f"m{i}")
        for j in range(10):
            metric.sum.data_points.add(as_int=j)
    return request


async def _measure(signal: Signal, request: Data, items: int, seconds: float) -> float:
    telemetry = Telemetry()

    def settings(id: str, kind: Kind) -> CreateSettings:
        return CreateSettings(ComponentID(id), kind, telemetry, signal=signal)

    async def push(data: Data) -> None:
        return None

    exporter = new_exporter(settings("nop", Kind.EXPORTER), ExporterHelperConfig(), signal, push)
    batch = BatchProcessor(settings("batch", Kind.PROCESSOR), BatchConfig(), signal, exporter)
    limiter = MemoryLimiter(
        settings("memory_limiter", Kind.PROCESSOR), MemoryLimiterConfig(limit_mib=4096), batch
    )
    for component in (exporter, batch, limiter):
        await component.start(_Host())
    sent = 0
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        for _ in range(100):
            await limiter.consume(request)
        sent += 100 * items
    for component in (limiter, batch, exporter):
        await component.shutdown()
    elapsed = time.perf_counter() - started
    delivered = telemetry.total(
        f"otelcol_exporter_sent_{'spans' if signal is Signal.TRACES else 'metric_points'}"
    )
    assert delivered == sent, (delivered, sent)
    return sent / elapsed


async def main(seconds: float) -> None:
    print(f"collector core pipeline (memory_limiter -> batch -> exporterhelper), {seconds:g}s each")
    for spans in (10, 100, 1000):
        rate = await _measure(Signal.TRACES, _traces(spans), spans, seconds)
        print(f"  traces  {spans:5d} spans/request:  {rate:12,.0f} spans/s")
    for points in (100, 1000):
        rate = await _measure(Signal.METRICS, _metrics(points), points, seconds)
        print(f"  metrics {points:5d} points/request: {rate:12,.0f} points/s")


if __name__ == "__main__":
    asyncio.run(main(float(sys.argv[1]) if len(sys.argv) > 1 else 2.0))
