"""Real OTLP clients into a real `routewatch run` (otlp receiver -> batch -> file exporter):
what comes out of the file equals what the client sent, for traces, metrics and logs.

Clients: the OTel Python SDK's OTLP exporters over gRPC and over HTTP/protobuf, and OTLP/JSON
posted over HTTP. The expected requests are the SDK's own OTLP encoding of the telemetry."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from collector.otlp.otlp_testkit import SdkData
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter as GrpcLogs
from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import (
    OTLPMetricExporter as GrpcMetrics,
)
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpans
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter as HttpLogs
from opentelemetry.exporter.otlp.proto.http.metric_exporter import (
    OTLPMetricExporter as HttpMetrics,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpans
from rw_collector_proc import Collector, metric, otlp_receiver, post
from support.ports import free_port

from routewatch.collector import otlpjson
from routewatch.collector.component import Signal
from routewatch.collector.exporters.file.file import read_records
from routewatch.collector.obsreport import ITEM_NAME, count_items

SDK_EXPORTERS = {
    "grpc": {Signal.TRACES: GrpcSpans, Signal.METRICS: GrpcMetrics, Signal.LOGS: GrpcLogs},
    "http": {Signal.TRACES: HttpSpans, Signal.METRICS: HttpMetrics, Signal.LOGS: HttpLogs},
}


def _config(tmp_path: Path, grpc_port: int, http_port: int) -> dict[str, Any]:
    exporters = {f"file/{s.value}": {"path": str(tmp_path / f"{s.value}.jsonl")} for s in Signal}
    return {
        "receivers": {"otlp": otlp_receiver(grpc_port, http_port)},
        "processors": {"batch": {"timeout": "10ms"}},
        "exporters": exporters,
        "service": {
            "pipelines": {
                s.value: {
                    "receivers": ["otlp"],
                    "processors": ["batch"],
                    "exporters": [f"file/{s.value}"],
                }
                for s in Signal
            }
        },
    }


def _sdk_sender(transport: str, grpc_port: int, http_port: int) -> Callable[[Signal, Any], None]:
    def send(signal: Signal, payload: Any) -> None:
        cls = SDK_EXPORTERS[transport][signal]
        if transport == "grpc":
            exporter = cls(endpoint=f"127.0.0.1:{grpc_port}", insecure=True)
        else:
            exporter = cls(
                endpoint=f"http://127.0.0.1:{http_port}/v1/{signal.value}",
                compression=Compression.Gzip,
            )
        try:
            result = exporter.export(payload)
        finally:
            exporter.shutdown()
        assert getattr(result, "name", str(result)) == "SUCCESS"

    return send


@pytest.mark.parametrize("transport", ["grpc", "http", "json"])
def test_client_to_file_round_trip(tmp_path: Path, sdk_data: SdkData, transport: str) -> None:
    grpc_port, http_port = free_port(), free_port()
    payloads = {
        Signal.TRACES: sdk_data.spans,
        Signal.METRICS: sdk_data.metrics,
        Signal.LOGS: sdk_data.logs,
    }
    with Collector(tmp_path, _config(tmp_path, grpc_port, http_port)) as collector:
        collector.start()
        for signal in Signal:
            if transport == "json":
                status, headers, body = post(
                    f"http://127.0.0.1:{http_port}/v1/{signal.value}",
                    otlpjson.encode(sdk_data.requests[signal]),
                    "application/json",
                )
                assert (status, headers["Content-Type"], body) == (200, "application/json", b"{}")
            else:
                _sdk_sender(transport, grpc_port, http_port)(signal, payloads[signal])
        # Internal telemetry after this known load, under the Go collector's names.
        wire = "grpc" if transport == "grpc" else "http"
        for signal in Signal:
            items = count_items(signal, sdk_data.requests[signal])
            name = ITEM_NAME[signal]
            exporter = {"exporter": f"file/{signal.value}"}
            collector.wait_metric(f"otelcol_exporter_sent_{name}", items, **exporter)
            text = collector.metrics()
            accepted = f"otelcol_receiver_accepted_{name}"
            assert metric(text, accepted, receiver="otlp", transport=wire) == items
            assert metric(text, f"otelcol_receiver_refused_{name}") == 0
            assert metric(text, f"otelcol_exporter_send_failed_{name}") == 0
            assert metric(text, "otelcol_exporter_queue_size", **exporter) == 0
        assert collector.stop() == 0  # SIGTERM drains the batch and flushes the file
    assert "Traceback" not in collector.log()
    for signal in Signal:
        written = list(read_records(tmp_path / f"{signal.value}.jsonl", "json", signal))
        assert written == [sdk_data.requests[signal]], signal


@pytest.fixture(scope="module")
def sdk_data() -> SdkData:
    return SdkData()
