"""Real OpenTelemetry SDK data (cumulative histograms with exemplars from a sampled span),
encoded by the upstream OTLP encoder, through the connector."""

import time

from alerting.engine_helpers import Recorder, latency_config, started
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from support.clocks import ManualClock

from routewatch.instrumentation.semconv import (
    DURATION_BUCKETS,
    HYBRID_ROUTING_OUTCOME,
    HYBRID_ROUTING_REQUEST_DURATION,
    HYBRID_ROUTING_ROUTE,
)


async def test_sdk_histograms_page_with_the_slowest_traces_and_resolve() -> None:
    clock, rec = ManualClock(time.time() - 1), Recorder()
    conn = await started(latency_config(), clock, rec)  # started before the app's meter

    reader = InMemoryMetricReader()
    view = View(
        instrument_name=HYBRID_ROUTING_REQUEST_DURATION,
        aggregation=ExplicitBucketHistogramAggregation(DURATION_BUCKETS),
    )
    meters = MeterProvider(
        metric_readers=[reader],
        views=[view],
        resource=Resource.create({"service.name": "router", "service.instance.id": "i-1"}),
    )
    histogram = meters.get_meter("test").create_histogram(HYBRID_ROUTING_REQUEST_DURATION, "s")
    tracer = TracerProvider().get_tracer("test")
    attrs = {HYBRID_ROUTING_ROUTE: "direct", HYBRID_ROUTING_OUTCOME: "success"}
    slow_trace = ""
    for i in range(20):
        with tracer.start_as_current_span("route") as span:
            histogram.record(16.0 + i * 0.1, attrs)
            slow_trace = format(span.get_span_context().trace_id, "032x")

    clock.now = time.time()
    await conn.consume(encode_metrics(reader.get_metrics_data()))
    (alert,) = rec.take()
    assert (alert.status, alert.severity) == ("firing", "critical")
    assert alert.labels == {"alertname": "RouteLatencyHigh", "hybrid_routing.route": "direct"}
    assert slow_trace in alert.exemplar_trace_ids  # the SDK keeps one exemplar per bucket

    for _ in range(400):  # cumulative: only the increment of the next export counts
        histogram.record(0.5, attrs)
    clock.now = time.time() + 60
    await conn.consume(encode_metrics(reader.get_metrics_data()))
    (resolved,) = rec.take()
    assert resolved.status == "resolved" and resolved.fingerprint == alert.fingerprint
    await conn.shutdown()
    meters.shutdown()
