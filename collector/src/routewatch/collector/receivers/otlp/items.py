"""Counting the items of an OTLP request: spans, metric data points, log records.

Only lengths of repeated fields are read (no per-item Python work), which is what the Go
collector's `SpanCount()`/`DataPointCount()`/`LogRecordCount()` do.
"""

from __future__ import annotations

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from routewatch.collector.component import Data, Signal

# The suffix of the Go collector's per-signal metric names (`otelcol_receiver_accepted_spans`).
ITEM_NAMES = {Signal.TRACES: "spans", Signal.METRICS: "metric_points", Signal.LOGS: "log_records"}


def count_spans(request: ExportTraceServiceRequest) -> int:
    return sum(len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans)


def count_data_points(request: ExportMetricsServiceRequest) -> int:
    total = 0
    for rm in request.resource_metrics:
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                kind = metric.WhichOneof("data")
                if kind is not None:
                    total += len(getattr(metric, kind).data_points)
    return total


def count_log_records(request: ExportLogsServiceRequest) -> int:
    return sum(len(sl.log_records) for rl in request.resource_logs for sl in rl.scope_logs)


def count_items(data: Data) -> int:
    """Spans, data points or log records in `data`, whichever its type carries."""
    if isinstance(data, ExportTraceServiceRequest):
        return count_spans(data)
    if isinstance(data, ExportMetricsServiceRequest):
        return count_data_points(data)
    return count_log_records(data)
