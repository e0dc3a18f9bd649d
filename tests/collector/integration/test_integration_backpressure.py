"""Backpressure through the real collector: a downstream OTLP server answering UNAVAILABLE fills
the otlp exporter's small queue, the receiver refuses with a retryable status (HTTP 503 +
Retry-After, gRPC UNAVAILABLE + RetryInfo), readiness turns unhealthy; once the server
recovers, readiness is healthy again and every accepted span arrives, exactly once."""

from __future__ import annotations

import json
import logging
from collections import Counter
from pathlib import Path

import grpc
import pytest
from collector.otlp.otlp_testkit import SdkData
from google.rpc import error_details_pb2, status_pb2
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpans
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace.export import SpanExportResult
from rw_collector_proc import Collector, get, metric, otlp_receiver, post, wait_until
from support.otlp_sink import otlp_sink
from support.ports import free_port

TRACE_METHOD = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
QUEUE_SIZE = 3
SPANS = 4


def _request(batch: int) -> bytes:
    request = ExportTraceServiceRequest()
    scope = request.resource_spans.add().scope_spans.add()
    for i in range(SPANS):
        span = scope.spans.add(name="op")
        span.trace_id = batch.to_bytes(16, "big")
        span.span_id = (batch * 100 + i + 1).to_bytes(8, "big")
    return request.SerializeToString()


def _ids(batch: int) -> set[str]:
    return {(batch * 100 + i + 1).to_bytes(8, "big").hex() for i in range(SPANS)}


def _sdk_is_told_to_retry(
    caplog: pytest.LogCaptureFixture, grpc_port: int, http_port: int, delays: tuple[float, float]
) -> None:
    """The SDK's gRPC and HTTP exporters retry after exactly the delay the collector gave
    (RetryInfo, Retry-After), then give up at their timeout: FAILURE, nothing accepted."""
    spans = SdkData().spans
    exporters = [
        GrpcSpans(endpoint=f"127.0.0.1:{grpc_port}", insecure=True, timeout=delays[0] + 0.5),
        HttpSpans(endpoint=f"http://127.0.0.1:{http_port}/v1/traces", timeout=delays[1] + 0.5),
    ]
    for exporter, delay in zip(exporters, delays, strict=True):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="opentelemetry.exporter.otlp"):
            try:
                assert exporter.export(spans) == SpanExportResult.FAILURE
            finally:
                exporter.shutdown()
        transient = [r.getMessage() for r in caplog.records if "Transient error" in r.getMessage()]
        assert transient, [r.getMessage() for r in caplog.records]
        assert f"retrying in {delay:.2f}s" in transient[0]
        assert "UNAVAILABLE" in transient[0] or "Service Unavailable" in transient[0]


def test_full_queue_pushes_back_then_everything_accepted_arrives(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    grpc_port, http_port = free_port(), free_port()
    with otlp_sink() as sink:
        sink.fail_with = grpc.StatusCode.UNAVAILABLE
        doc = {
            "receivers": {"otlp": otlp_receiver(grpc_port, http_port)},
            "processors": {"batch": {"send_batch_size": 1, "timeout": "10ms"}},
            "exporters": {
                "otlp": {
                    "endpoint": sink.endpoint,
                    "tls": {"insecure": True},
                    "sending_queue": {"queue_size": QUEUE_SIZE, "num_consumers": 1},
                    "retry_on_failure": {
                        "initial_interval": "20ms",
                        "max_interval": "50ms",
                        "max_elapsed_time": 0,  # retry until it goes through
                    },
                }
            },
            # A short window: failures age out of readiness soon after the recovery.
            "extensions": {"health_check": {"readiness": {"window": "1s", "min_sends": 2}}},
            "service": {
                "pipelines": {
                    "traces": {
                        "receivers": ["otlp"],
                        "processors": ["batch"],
                        "exporters": ["otlp"],
                    }
                }
            },
        }
        url = f"http://127.0.0.1:{http_port}/v1/traces"
        with Collector(tmp_path, doc) as collector:
            collector.start()
            accepted: set[str] = set()
            refused_http = 0
            for batch in range(30):
                status, headers, body = post(url, _request(batch))
                if status == 200:
                    accepted |= _ids(batch)
                    continue
                assert status == 503, body
                assert int(headers["Retry-After"]) >= 1
                assert (
                    status_pb2.Status.FromString(body).code == grpc.StatusCode.UNAVAILABLE.value[0]
                )
                refused_http += 1
                if refused_http == 3:
                    break
            assert refused_http == 3
            # The queue of 3 plus one request in the exporter's hands and one in the batch.
            assert QUEUE_SIZE * SPANS <= len(accepted) <= (QUEUE_SIZE + 2) * SPANS

            # gRPC is refused too, UNAVAILABLE with a RetryInfo detail.
            with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
                try:
                    channel.unary_unary(TRACE_METHOD)(_request(99), timeout=10)
                    raise AssertionError("accepted while the queue is full")
                except grpc.RpcError as err:
                    assert err.code() == grpc.StatusCode.UNAVAILABLE  # type: ignore[attr-defined]
                    trailers = dict(err.trailing_metadata())  # type: ignore[attr-defined]
            details = status_pb2.Status.FromString(trailers["grpc-status-details-bin"]).details
            retry_info = error_details_pb2.RetryInfo()
            assert details[0].Unpack(retry_info) and retry_info.retry_delay.ToTimedelta()

            text = collector.metrics()
            labels = {"receiver": "otlp"}
            assert metric(text, "otelcol_receiver_accepted_spans", **labels) == len(accepted)
            refused = metric(text, "otelcol_receiver_refused_spans", **labels)
            assert refused == (refused_http + 1) * SPANS
            assert metric(text, "otelcol_exporter_queue_size", exporter="otlp") == QUEUE_SIZE
            assert metric(text, "otelcol_exporter_queue_capacity", exporter="otlp") == QUEUE_SIZE
            assert metric(text, "otelcol_exporter_sent_spans", exporter="otlp") == 0
            # The OTel SDK's exporters see the refusal as retryable and wait what it says.
            # (The batch processor holding a refused batch asks for its own timeout, 10ms;
            # Retry-After rounds that up to whole seconds.)
            delays = (retry_info.retry_delay.ToTimedelta().total_seconds(), 1.0)
            assert delays[0] == 0.01 and float(headers["Retry-After"]) == delays[1]
            _sdk_is_told_to_retry(caplog, grpc_port, http_port, delays)

            status, body = get(collector.health_url + "/ready")
            assert status == 503, body
            assert json.loads(body)["exporters"][0]["healthy"] is False

            sink.fail_with = None  # the downstream recovers
            arrived = sink.wait_for(lambda s: {sp.span_id.hex() for sp in s.spans()} >= accepted)
            assert arrived, f"missing {len(accepted - {sp.span_id.hex() for sp in sink.spans()})}"
            wait_until(lambda: get(collector.health_url + "/ready")[0] == 200, what="ready")
            # The sink records a request before the exporter has its answer: wait for both.
            collector.wait_metric("otelcol_exporter_sent_spans", len(accepted), exporter="otlp")
            collector.wait_metric("otelcol_exporter_queue_size", 0, exporter="otlp")
            assert post(url, _request(50))[0] == 200  # serving again
            accepted |= _ids(50)
            assert collector.stop() == 0
        counts = Counter(sp.span_id.hex() for sp in sink.spans())
        assert set(counts) == accepted
        assert max(counts.values()) == 1  # nothing twice
