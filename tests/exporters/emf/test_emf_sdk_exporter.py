"""CloudWatchEMFMetricExporter inside a real MeterProvider: stdout (Lambda), file, CloudWatch."""

from __future__ import annotations

import io
import json
from pathlib import Path

from emf_validator import validate
from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider, UpDownCounter
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    InMemoryMetricReader,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import Resource
from support.moto import moto_server

from routewatch.exporters.emf import CloudWatchEMFMetricExporter, EmfConfig


def provider(exporter: CloudWatchEMFMetricExporter) -> MeterProvider:
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
    return MeterProvider(metric_readers=[reader], resource=Resource({"service.name": "router"}))


def record(mp: MeterProvider) -> None:
    meter = mp.get_meter("routewatch")
    attempts = meter.create_counter("hybrid_routing.attempts", unit="{attempt}")
    duration = meter.create_histogram("hybrid_routing.request.duration", unit="s")
    inflight = meter.create_up_down_counter("inflight", unit="{request}")
    for route, seconds in [("direct", 0.4), ("direct", 1.2), ("mcp", 3.0)]:
        attempts.add(1, {"hybrid_routing.route": route})
        duration.record(seconds, {"hybrid_routing.route": route})
        inflight.add(1, {"hybrid_routing.route": route})


def test_prefers_delta_for_counters_and_histograms() -> None:
    exporter = CloudWatchEMFMetricExporter(stream=io.StringIO())
    temporality = exporter._preferred_temporality
    assert temporality[Counter] is AggregationTemporality.DELTA
    assert temporality[Histogram] is AggregationTemporality.DELTA
    assert temporality[UpDownCounter] is AggregationTemporality.CUMULATIVE


def test_stdout_one_emf_json_per_line_over_two_exports() -> None:
    out = io.StringIO()
    mp = provider(CloudWatchEMFMetricExporter("HybridRouting", stream=out))
    record(mp)
    mp.force_flush()
    record(mp)
    mp.shutdown()
    roots = [validate(line.encode()) for line in out.getvalue().splitlines()]
    direct = [r for r in roots if r["hybrid_routing.route"] == "direct"]
    # delta temporality: each export carries only its own interval
    assert [r["hybrid_routing.attempts"] for r in direct] == [2, 2]
    assert [r["hybrid_routing.request.duration"]["Count"] for r in direct] == [2, 2]
    # the up-down counter is a level (cumulative, sent as is)
    assert [r["inflight"] for r in direct] == [2, 4]
    assert {r["_aws"]["CloudWatchMetrics"][0]["Namespace"] for r in roots} == {"HybridRouting"}


def test_cumulative_reader_is_converted_to_delta() -> None:
    out = io.StringIO()
    exporter = CloudWatchEMFMetricExporter(
        config=EmfConfig(namespace="N", retain_initial_value_of_delta_metric=True), stream=out
    )
    reader = InMemoryMetricReader()  # cumulative by default
    mp = MeterProvider(metric_readers=[reader])
    counter = mp.get_meter("t").create_counter("c")
    for n in (3, 4):
        counter.add(n)
        exporter.export(reader.get_metrics_data())
    assert [validate(line.encode())["c"] for line in out.getvalue().splitlines()] == [3, 4]


def test_file_output(tmp_path: Path) -> None:
    path = tmp_path / "emf.jsonl"
    mp = provider(CloudWatchEMFMetricExporter("N", output="file", file_path=str(path)))
    record(mp)
    mp.shutdown()
    assert len([validate(line.encode()) for line in path.read_text().splitlines()]) == 2


def test_cloudwatch_output_flushes_on_shutdown() -> None:
    with moto_server() as moto:
        exporter = CloudWatchEMFMetricExporter(
            "HybridRouting",
            output="cloudwatch",
            log_group_name="/hybrid-routing/{ServiceName}",
            log_stream_name="direct",
            endpoint=moto.endpoint_url,
            region="us-east-1",
            log_retention=3,
        )
        mp = provider(exporter)
        record(mp)
        mp.shutdown()
        client = moto.client("logs")
        got = client.get_log_events(
            logGroupName="/hybrid-routing/router", logStreamName="direct", startFromHead=True
        )["events"]
        routes = sorted(json.loads(e["message"])["hybrid_routing.route"] for e in got)
        assert routes == ["direct", "mcp"]
        (group,) = client.describe_log_groups(logGroupNamePrefix="/hybrid-routing")["logGroups"]
        assert group["retentionInDays"] == 3


def test_export_after_shutdown_fails_without_raising() -> None:
    exporter = CloudWatchEMFMetricExporter(stream=io.StringIO())
    exporter.shutdown()
    exporter.shutdown()
    reader = InMemoryMetricReader()
    MeterProvider(metric_readers=[reader]).get_meter("t").create_counter("c").add(1)
    assert exporter.export(reader.get_metrics_data()).name == "FAILURE"
