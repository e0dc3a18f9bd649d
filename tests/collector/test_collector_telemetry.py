"""Self-telemetry rendering and the receiver helper."""

from __future__ import annotations

from rw_testcomponents import logs, metrics, traces

from routewatch.collector.component import ComponentID, Signal
from routewatch.collector.errors import RetryableError
from routewatch.collector.obsreport import count_items, receiver_result
from routewatch.collector.telemetry import Telemetry


def test_counters_render_exactly() -> None:
    telemetry = Telemetry()
    telemetry.add("otelcol_exporter_sent_spans", 1_234_567, {"exporter": "otlp"})
    telemetry.set("ratio", 0.125)
    telemetry.set("bad", float("nan"))
    telemetry.gauge_func("broken", lambda: 1 / 0)
    text = telemetry.render_prometheus()
    assert 'otelcol_exporter_sent_spans{exporter="otlp"} 1234567\n' in text
    assert "ratio 0.125\n" in text
    assert "bad NaN\n" in text
    assert "broken" not in text  # a failing gauge is left out, the rest still renders


def test_receiver_result_counts_accepted_and_refused() -> None:
    telemetry = Telemetry()
    receiver_result(telemetry, ComponentID("otlp"), "grpc", Signal.TRACES, 5)
    receiver_result(telemetry, "otlp", "grpc", Signal.TRACES, 2, RetryableError("full"))
    receiver_result(telemetry, "otlp", "http", Signal.LOGS, 3)
    grpc = {"receiver": "otlp", "transport": "grpc"}
    assert telemetry.value("otelcol_receiver_accepted_spans", grpc) == 5
    assert telemetry.value("otelcol_receiver_refused_spans", grpc) == 2
    http = {"receiver": "otlp", "transport": "http"}
    assert telemetry.value("otelcol_receiver_accepted_log_records", http) == 3


def test_count_items_per_signal() -> None:
    assert count_items(Signal.TRACES, traces(7, resources=3)) == 7
    assert count_items(Signal.METRICS, metrics(["a", "b", "c"], points=4)) == 12
    assert count_items(Signal.LOGS, logs(5)) == 5
