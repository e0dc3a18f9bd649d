"""The OTLP receiver and the summary of what it received (the demo itself: tests/demo/)."""

from __future__ import annotations

from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind, StatusCode

from routewatch.collector.devservers.otlp_receiver import otlp_receiver
from routewatch.collector.devservers.summary import render_metrics, render_routes, render_traces


def test_receiver_and_summary_render_span_trees_and_metrics() -> None:
    with otlp_receiver() as receiver:
        resource = Resource.create({"service.name": "summary-test"})
        tracer_provider = TracerProvider(resource=resource)
        exporter = OTLPSpanExporter(endpoint=f"http://{receiver.endpoint}", insecure=True)
        tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
        tracer = tracer_provider.get_tracer("test")
        with tracer.start_as_current_span(
            "route infrastructure", attributes={"hybrid_routing.route": "mcp"}
        ):
            with tracer.start_as_current_span(
                "attempt direct", attributes={"hybrid_routing.attempt": 1}
            ) as attempt:
                with tracer.start_as_current_span(
                    "chat amazon.nova-lite-v1:0",
                    kind=SpanKind.CLIENT,
                    attributes={
                        "gen_ai.request.model": "amazon.nova-lite-v1:0",
                        "prompt": "secret",
                    },
                ):
                    pass
                attempt.set_status(StatusCode.ERROR)
            with tracer.start_as_current_span("attempt mcp"):
                pass
        reader = PeriodicExportingMetricReader(
            OTLPMetricExporter(endpoint=f"http://{receiver.endpoint}", insecure=True),
            export_interval_millis=60_000,
        )
        meter_provider = MeterProvider(resource=resource, metric_readers=[reader])
        meter = meter_provider.get_meter("test")
        attempts = meter.create_counter("hybrid_routing.attempts")
        duration = meter.create_histogram("hybrid_routing.request.duration", unit="s")
        attempts.add(2, {"hybrid_routing.route": "direct", "server.port": 1})
        attempts.add(1, {"hybrid_routing.route": "mcp"})
        for value in (0.1, 0.3):
            duration.record(value, {"hybrid_routing.operation": "standard"})
        meter_provider.force_flush()
        attempts.add(1, {"hybrid_routing.route": "mcp"})  # cumulative: the latest point counts
        meter_provider.shutdown()
        tracer_provider.shutdown()
        trace_lines = render_traces(receiver.spans())
        route_lines = render_routes(receiver.spans())
        metric_lines = render_metrics(receiver.metric_points())

    assert trace_lines[0] == "traces: 1 traces, 4 spans, 1 route spans"
    tree = [line for line in trace_lines if line.lstrip().startswith("- ")]
    assert tree[0].startswith("  - route infrastructure [internal] ")
    assert "hybrid_routing.route=mcp" in tree[0]
    assert tree[1].startswith("    - attempt direct [internal] ")
    assert tree[1].split("ms")[1].startswith(" ERROR")
    assert tree[2].startswith("      - chat amazon.nova-lite-v1:0 [client] ")
    assert "gen_ai.request.model=amazon.nova-lite-v1:0" in tree[2]
    assert "secret" not in "\n".join(trace_lines)  # only the routing and GenAI attributes
    assert tree[3].startswith("    - attempt mcp [internal] ")

    assert route_lines[0] == "routes: 1 routed requests"
    assert route_lines[1].startswith("  mcp           1 requests    0 errors  p50 ")

    assert metric_lines[0] == "metrics: 2 metrics"
    assert "  hybrid_routing.attempts (sum): 4" in metric_lines
    assert any(line.endswith("2  hybrid_routing.route=direct") for line in metric_lines)
    assert "  hybrid_routing.request.duration (histogram): 2 recorded, mean 0.2 s" in metric_lines


def test_summary_of_nothing() -> None:
    assert render_traces([]) == ["traces: none received"]
    assert render_metrics([]) == ["metrics: none received"]
    assert render_routes([]) == []
