"""The batch processor: size and timeout triggers, max-size splits, held batches."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as settings_
from hypothesis import strategies as st
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from rw_testcomponents import StubHost, logs, metrics, settings, traces

from routewatch.collector.clock import FakeClock
from routewatch.collector.component import Data, Kind, Signal
from routewatch.collector.errors import PermanentError, RetryableError
from routewatch.collector.obsreport import count_items, signal_of
from routewatch.collector.processors.batch.batch import BatchProcessor
from routewatch.collector.processors.batch.config import BatchConfig
from routewatch.collector.processors.batch.split import split


class Sink:
    def __init__(self) -> None:
        self.received: list[Data] = []
        self.failures: list[Exception] = []

    async def consume(self, data: Data) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.received.append(data)

    def sizes(self) -> list[int]:
        return [count_items(signal_of(d), d) for d in self.received]


async def _batch(
    signal: Signal = Signal.TRACES, **cfg: Any
) -> tuple[BatchProcessor, Sink, FakeClock]:
    sink, clock = Sink(), FakeClock()
    processor = BatchProcessor(
        settings("batch", Kind.PROCESSOR), BatchConfig(**cfg), signal, sink, clock
    )
    await processor.start(StubHost())
    return processor, sink, clock


async def test_sends_when_size_is_reached() -> None:
    processor, sink, _ = await _batch(send_batch_size=10)
    await processor.consume(traces(4))
    await processor.consume(traces(4))
    assert sink.received == []
    await processor.consume(traces(4, resources=2))
    assert sink.sizes() == [12]
    merged = sink.received[0]
    assert len(merged.resource_spans) == 4  # resource lists concatenated, not re-grouped
    assert processor.pending == 0
    await processor.shutdown()


async def test_sends_after_timeout() -> None:
    processor, sink, clock = await _batch(send_batch_size=100, timeout=0.2)
    await processor.consume(traces(3))
    await clock.wait_for_sleepers(1)
    await clock.advance(0.19)
    assert sink.received == []
    await clock.advance(0.01)
    assert sink.sizes() == [3]
    telemetry = processor._settings.telemetry
    assert (
        telemetry.value("otelcol_processor_batch_timeout_trigger_send", {"processor": "batch"}) == 1
    )
    await processor.shutdown()


async def test_max_size_splits_large_batches() -> None:
    processor, sink, _ = await _batch(send_batch_size=5, send_batch_max_size=7)
    await processor.consume(traces(16, resources=3))
    assert sink.sizes() == [7, 7, 2]
    names = {
        kv.value.string_value
        for request in sink.received
        for rs in request.resource_spans
        for kv in rs.resource.attributes
    }
    assert names == {"svc0", "svc1", "svc2"}  # resources repeated into each piece
    await processor.shutdown()


def test_split_metrics_cuts_data_points() -> None:
    request = metrics(["a", "b"], points=5)
    pieces = split(request, Signal.METRICS, 4)
    assert [count_items(Signal.METRICS, p) for p in pieces] == [4, 4, 2]
    assert [m.name for p in pieces for m in p.resource_metrics[0].scope_metrics[0].metrics] == [
        "a",
        "a",
        "b",
        "b",
    ]


def test_split_logs() -> None:
    pieces = split(logs(5), Signal.LOGS, 2)
    assert [count_items(Signal.LOGS, p) for p in pieces] == [2, 2, 1]


async def test_shutdown_flushes() -> None:
    processor, sink, _ = await _batch(send_batch_size=100)
    await processor.consume(traces(3))
    await processor.shutdown()
    assert sink.sizes() == [3]
    with pytest.raises(RetryableError):
        await processor.consume(traces(1))


async def test_retryable_refusal_holds_the_batch_and_pushes_back() -> None:
    processor, sink, clock = await _batch(send_batch_size=2, timeout=0.2)
    sink.failures = [RetryableError("queue full")]
    await processor.consume(traces(2))  # accepted; the flush is refused downstream
    assert processor.pending == 2
    with pytest.raises(RetryableError, match="refused the last batch"):
        await processor.consume(traces(1))
    await clock.wait_for_sleepers(1)
    await clock.advance(0.2)  # the timer retries the held batch
    assert sink.sizes() == [2]
    await processor.consume(traces(1))  # accepting again
    await processor.shutdown()
    assert sink.sizes() == [2, 1]


async def test_permanent_refusal_drops_and_counts() -> None:
    processor, sink, _ = await _batch(send_batch_size=2)
    sink.failures = [PermanentError("invalid")]
    await processor.consume(traces(2))
    assert processor.pending == 0
    telemetry = processor._settings.telemetry
    assert telemetry.value("otelcol_processor_batch_dropped_items", {"processor": "batch"}) == 2
    await processor.shutdown()


async def test_zero_timeout_passes_through() -> None:
    processor, sink, _ = await _batch(timeout=0)
    await processor.consume(traces(3))
    assert sink.sizes() == [3]
    await processor.shutdown()


async def test_size_zero_leaves_only_the_timeout() -> None:
    processor, sink, clock = await _batch(send_batch_size=0, timeout=1)
    await processor.consume(traces(10_000))
    assert sink.received == []
    await clock.wait_for_sleepers(1)
    await clock.advance(1)
    assert sink.sizes() == [10_000]
    await processor.shutdown()


@settings_(max_examples=60, deadline=None)
@given(
    shape=st.lists(st.lists(st.integers(0, 6), min_size=1, max_size=3), min_size=1, max_size=4),
    limit=st.integers(1, 9),
)
def test_split_keeps_every_span_in_order_within_the_limit(
    shape: list[list[int]], limit: int
) -> None:
    request = ExportTraceServiceRequest()
    n = 0
    for r, scopes in enumerate(shape):
        rs = request.resource_spans.add()
        rs.resource.attributes.add(key="r").value.int_value = r
        for s, spans in enumerate(scopes):
            ss = rs.scope_spans.add()
            ss.scope.name = f"{r}.{s}"
            for _ in range(spans):
                ss.spans.add(name=str(n))
                n += 1
    pieces = split(request, Signal.TRACES, limit)
    sizes = [count_items(Signal.TRACES, p) for p in pieces]
    assert all(0 < size <= limit for size in sizes)
    flat = [
        (rs.resource.attributes[0].value.int_value, ss.scope.name, span.name)
        for p in pieces
        for rs in p.resource_spans
        for ss in rs.scope_spans
        for span in ss.spans
    ]
    original = [
        (rs.resource.attributes[0].value.int_value, ss.scope.name, span.name)
        for rs in request.resource_spans
        for ss in rs.scope_spans
        for span in ss.spans
    ]
    assert flat == original


@settings_(max_examples=60, deadline=None)
@given(points=st.lists(st.integers(0, 7), min_size=1, max_size=5), limit=st.integers(1, 6))
def test_split_metrics_keeps_every_point(points: list[int], limit: int) -> None:
    request = ExportMetricsServiceRequest()
    sm = request.resource_metrics.add().scope_metrics.add()
    for m, count in enumerate(points):
        metric = sm.metrics.add(name=f"m{m}")
        for i in range(count):
            metric.sum.data_points.add(as_int=i)
    pieces = split(request, Signal.METRICS, limit)
    assert all(count_items(Signal.METRICS, p) <= limit for p in pieces)
    flat = [
        (metric.name, dp.as_int)
        for p in pieces
        for rm in p.resource_metrics
        for s in rm.scope_metrics
        for metric in s.metrics
        for dp in metric.sum.data_points
    ]
    assert flat == [(f"m{m}", i) for m, count in enumerate(points) for i in range(count)]


def test_split_keeps_metrics_without_points() -> None:
    request = metrics(["empty"], points=0)
    pieces = split(request, Signal.METRICS, 3)
    assert [m.name for p in pieces for m in p.resource_metrics[0].scope_metrics[0].metrics] == [
        "empty"
    ]
