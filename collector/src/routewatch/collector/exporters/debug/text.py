"""Text renderings of OTLP requests for the debug exporter, one function per verbosity."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from routewatch.collector import otlpjson
from routewatch.collector.component import Data, Signal
from routewatch.collector.obsreport import count_items


def summary(data: Data) -> str:
    """`basic`: the counts of one batch, as the Go debug exporter logs them."""
    if isinstance(data, ExportTraceServiceRequest):
        counts = {
            "resource spans": len(data.resource_spans),
            "spans": count_items(Signal.TRACES, data),
        }
        return "Traces " + orjson.dumps(counts).decode()
    if isinstance(data, ExportMetricsServiceRequest):
        metrics = sum(len(sm.metrics) for rm in data.resource_metrics for sm in rm.scope_metrics)
        counts = {
            "resource metrics": len(data.resource_metrics),
            "metrics": metrics,
            "data points": count_items(Signal.METRICS, data),
        }
        return "Metrics " + orjson.dumps(counts).decode()
    counts = {
        "resource logs": len(data.resource_logs),
        "log records": count_items(Signal.LOGS, data),
    }
    return "Logs " + orjson.dumps(counts).decode()


def lines(data: Data) -> Iterator[str]:
    """`normal`: a line per resource and scope, then one per span, data point or record."""
    if isinstance(data, ExportTraceServiceRequest):
        for i, rs in enumerate(data.resource_spans):
            yield f"ResourceSpans #{i}{_attrs(rs.resource.attributes)}"
            for j, ss in enumerate(rs.scope_spans):
                yield f"ScopeSpans #{j} {_scope(ss.scope)}"
                for span in ss.spans:
                    yield (
                        f"{span.name} {span.trace_id.hex()} {span.span_id.hex()}"
                        f"{_attrs(span.attributes)}"
                    )
    elif isinstance(data, ExportMetricsServiceRequest):
        for i, rm in enumerate(data.resource_metrics):
            yield f"ResourceMetrics #{i}{_attrs(rm.resource.attributes)}"
            for j, sm in enumerate(rm.scope_metrics):
                yield f"ScopeMetrics #{j} {_scope(sm.scope)}"
                for metric in sm.metrics:
                    yield from _metric_lines(metric)
    else:
        for i, rl in enumerate(data.resource_logs):
            yield f"ResourceLog #{i}{_attrs(rl.resource.attributes)}"
            for j, sl in enumerate(rl.scope_logs):
                yield f"ScopeLog #{j} {_scope(sl.scope)}"
                for record in sl.log_records:
                    yield f"{any_text(record.body)}{_attrs(record.attributes)}"


def dump(data: Data) -> str:
    """`detailed`: every field, as indented OTLP/JSON (hex ids, readable in a terminal)."""
    return orjson.dumps(otlpjson.to_dict(data), option=orjson.OPT_INDENT_2).decode()


def _metric_lines(metric: Any) -> Iterator[str]:
    kind = metric.WhichOneof("data")
    if kind is None:
        yield f"{metric.name} (no data)"
        return
    for point in getattr(metric, kind).data_points:
        labels = ",".join(f"{kv.key}={any_text(kv.value)}" for kv in point.attributes)
        if kind in ("gauge", "sum"):
            value = point.as_double if point.WhichOneof("value") == "as_double" else point.as_int
            text = str(value)
        elif kind == "summary":
            text = f"count={point.count} sum={point.sum}"
        else:
            text = f"count={point.count} sum={point.sum if point.HasField('sum') else ''}"
        yield f"{metric.name}{{{labels}}} {text}"


def _scope(scope: Any) -> str:
    return f"{scope.name}@{scope.version}" if scope.version else scope.name


def _attrs(attributes: Any) -> str:
    if not attributes:
        return ""
    return " " + " ".join(f"{kv.key}={any_text(kv.value)}" for kv in attributes)


def any_text(value: Any) -> str:
    """An AnyValue as short text."""
    kind = value.WhichOneof("value")
    if kind is None:
        return ""
    if kind == "array_value":
        return "[" + ",".join(any_text(v) for v in value.array_value.values) + "]"
    if kind == "kvlist_value":
        return (
            "{"
            + ",".join(f"{kv.key}:{any_text(kv.value)}" for kv in value.kvlist_value.values)
            + "}"
        )
    if kind == "bytes_value":
        return value.bytes_value.hex()
    return str(getattr(value, kind))
