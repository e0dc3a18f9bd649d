"""An OTLP/gRPC server that records what it receives, with an injectable failure status.

Used as the downstream of collector tests and benchmarks and as the in-test receiver of the
instrumentation's end-to-end tests. Faults are injected here (`fail_with`), never in our code.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager
from typing import Any

import grpc
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2, metrics_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from support.ports import free_port


class OtlpSink:
    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.traces: list[trace_service_pb2.ExportTraceServiceRequest] = []
        self.metrics: list[metrics_service_pb2.ExportMetricsServiceRequest] = []
        self.logs: list[logs_service_pb2.ExportLogsServiceRequest] = []
        # Set to a grpc.StatusCode to make every export fail with it (e.g. UNAVAILABLE).
        self.fail_with: grpc.StatusCode | None = None
        self.endpoint = ""

    def _record(self, store: list[Any], request: Any, context: grpc.ServicerContext) -> None:
        if self.fail_with is not None:
            context.abort(self.fail_with, "injected failure")
        with self.lock:
            store.append(request)
            self.lock.notify_all()

    def span_count(self) -> int:
        with self.lock:
            return sum(
                len(ss.spans)
                for req in self.traces
                for rs in req.resource_spans
                for ss in rs.scope_spans
            )

    def spans(self) -> list[Any]:
        with self.lock:
            return [
                span
                for req in self.traces
                for rs in req.resource_spans
                for ss in rs.scope_spans
                for span in ss.spans
            ]

    def metric_names(self) -> set[str]:
        with self.lock:
            return {
                m.name
                for req in self.metrics
                for rm in req.resource_metrics
                for sm in rm.scope_metrics
                for m in sm.metrics
            }

    def wait_for(self, predicate: Any, timeout: float = 10.0) -> bool:
        """Wait until predicate(self) is true; False on timeout."""
        with self.lock:
            return self.lock.wait_for(lambda: predicate(self), timeout)


class _Trace(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self, sink: OtlpSink) -> None:
        self.sink = sink

    def Export(self, request: Any, context: Any) -> Any:
        self.sink._record(self.sink.traces, request, context)
        return trace_service_pb2.ExportTraceServiceResponse()


class _Metrics(metrics_service_pb2_grpc.MetricsServiceServicer):
    def __init__(self, sink: OtlpSink) -> None:
        self.sink = sink

    def Export(self, request: Any, context: Any) -> Any:
        self.sink._record(self.sink.metrics, request, context)
        return metrics_service_pb2.ExportMetricsServiceResponse()


class _Logs(logs_service_pb2_grpc.LogsServiceServicer):
    def __init__(self, sink: OtlpSink) -> None:
        self.sink = sink

    def Export(self, request: Any, context: Any) -> Any:
        self.sink._record(self.sink.logs, request, context)
        return logs_service_pb2.ExportLogsServiceResponse()


@contextmanager
def otlp_sink(port: int | None = None) -> Iterator[OtlpSink]:
    """Serve OTLP/gRPC on 127.0.0.1 (a free port unless given); `sink.endpoint` is host:port."""
    sink = OtlpSink()
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=4),
        options=[("grpc.max_receive_message_length", 64 * 1024 * 1024)],
    )
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(_Trace(sink), server)
    metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(_Metrics(sink), server)
    logs_service_pb2_grpc.add_LogsServiceServicer_to_server(_Logs(sink), server)
    port = port or free_port()
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    sink.endpoint = f"127.0.0.1:{port}"
    try:
        yield sink
    finally:
        server.stop(grace=None)
