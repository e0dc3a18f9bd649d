"""A small in-process OTLP/gRPC receiver that keeps what it receives (for the interim demo).

Not the collector: no pipeline, no limits. It answers every export with success and holds the
request messages, so the demo can summarise what an instrumented app sent.
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
from opentelemetry.proto.metrics.v1.metrics_pb2 import Metric
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import Span


class OtlpReceiver:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.traces: list[trace_service_pb2.ExportTraceServiceRequest] = []
        self.metrics: list[metrics_service_pb2.ExportMetricsServiceRequest] = []
        self.logs: list[logs_service_pb2.ExportLogsServiceRequest] = []
        self.endpoint = ""  # host:port once started

    def _keep(self, store: list[Any], request: Any) -> None:
        with self._lock:
            store.append(request)

    def spans(self) -> list[tuple[Resource, Span]]:
        with self._lock:
            return [
                (rs.resource, span)
                for req in self.traces
                for rs in req.resource_spans
                for ss in rs.scope_spans
                for span in ss.spans
            ]

    def metric_points(self) -> list[Metric]:
        """Every metric message received, in arrival order (cumulative ones repeat)."""
        with self._lock:
            return [
                metric
                for req in self.metrics
                for rm in req.resource_metrics
                for sm in rm.scope_metrics
                for metric in sm.metrics
            ]


class _Traces(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self, receiver: OtlpReceiver) -> None:
        self.receiver = receiver

    def Export(self, request: Any, context: Any) -> Any:
        self.receiver._keep(self.receiver.traces, request)
        return trace_service_pb2.ExportTraceServiceResponse()


class _Metrics(metrics_service_pb2_grpc.MetricsServiceServicer):
    def __init__(self, receiver: OtlpReceiver) -> None:
        self.receiver = receiver

    def Export(self, request: Any, context: Any) -> Any:
        self.receiver._keep(self.receiver.metrics, request)
        return metrics_service_pb2.ExportMetricsServiceResponse()


class _Logs(logs_service_pb2_grpc.LogsServiceServicer):
    def __init__(self, receiver: OtlpReceiver) -> None:
        self.receiver = receiver

    def Export(self, request: Any, context: Any) -> Any:
        self.receiver._keep(self.receiver.logs, request)
        return logs_service_pb2.ExportLogsServiceResponse()


@contextmanager
def otlp_receiver(host: str = "127.0.0.1", port: int = 0) -> Iterator[OtlpReceiver]:
    """Serve OTLP/gRPC on host:port (0 = a free port) for the block; `.endpoint` is host:port."""
    receiver = OtlpReceiver()
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=4),
        options=[("grpc.max_receive_message_length", 64 * 1024 * 1024)],
    )
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(_Traces(receiver), server)
    metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(_Metrics(receiver), server)
    logs_service_pb2_grpc.add_LogsServiceServicer_to_server(_Logs(receiver), server)
    bound = server.add_insecure_port(f"{host}:{port}")
    server.start()
    receiver.endpoint = f"{host}:{bound}"
    try:
        yield receiver
    finally:
        server.stop(grace=None)
