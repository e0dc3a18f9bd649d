"""Reader over OTLP protobuf `ExportMetricsServiceRequest`: feeds an `EmfBatch` directly.

It reads the request through its view (`otlp_view`: attributes and bucket arrays as bytes).
Point attributes come, a metric at a time, from a process-wide `AttributeColumns` cache keyed
by the metric in the attributes view, and else point by point from a process-wide
`AttributeCache` (see `otlp_attributes`): either way the same tuple object for the same
attributes, so create the batch with `stable_attributes=True`.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from typing import Any

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.metrics.v1.metrics_pb2 import AggregationTemporality

from routewatch.exporters.emf.encode import EmfBatch
from routewatch.exporters.emf.otlp_attributes import (
    AttributeCache,
    AttributeColumn,
    AttributeColumns,
    attributes,
)
from routewatch.exporters.emf.otlp_view import metrics_views, unpack, unpacker

STABLE_ATTRIBUTES = True
_ATTRIBUTES = AttributeCache()
COLUMNS = AttributeColumns()

_CUMULATIVE = AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE


def read_otlp_metrics(batch: EmfBatch, request: ExportMetricsServiceRequest) -> None:
    """Feed every point of `request` to `batch`."""
    view, attributes_view = metrics_views(request)
    for rm, rm_attrs in zip(view.resource_metrics, attributes_view.resource_metrics, strict=True):
        batch.resource(attributes(rm.resource.attributes))
        for sm, sm_attrs in zip(rm.scope_metrics, rm_attrs.scope_metrics, strict=True):
            for metric, metric_attrs in zip(sm.metrics, sm_attrs.metrics, strict=True):
                _read_metric(batch, metric, metric_attrs.SerializeToString())


def _column(points: Any, key: bytes) -> AttributeColumn:
    """The attributes of `points` (a view's data points); `key`: their metric serialised from
    the attributes view."""
    column = COLUMNS.get(key)
    if column is None:
        # decoded only when not cached yet
        find, decode = _ATTRIBUTES.finder(), _ATTRIBUTES.of
        column = tuple(
            [decode(k) if (a := find(k := tuple(p.attributes[:]))) is None else a for p in points]
        )
        COLUMNS.put(key, column)
    return column


def _trace_ids(exemplars: Iterable[Any]) -> list[str] | None:
    ids = [e.trace_id.hex() for e in exemplars if e.trace_id]
    return ids or None


def _read_metric(batch: EmfBatch, metric: Any, column_key: bytes) -> None:
    """`metric`: a Metric of the view; `column_key`: the same metric in the attributes view."""
    kind = metric.WhichOneof("data")
    name, unit = metric.name, metric.unit
    if kind == "sum" and metric.sum.is_monotonic:
        data = metric.sum
        info = batch.metric(name, unit, counter=True)
        cumulative = data.aggregation_temporality == _CUMULATIVE
        add_sum = batch.sum
        points = data.data_points
        for p, attrs in zip(points, _column(points, column_key), strict=True):
            add_sum(
                info,
                attrs,
                # the start time only matters to delta conversion
                p.start_time_unix_nano if cumulative else 0,
                p.time_unix_nano,
                # whichever is set; the other reads as 0 (and a set 0 is 0 either way)
                p.as_double or p.as_int,
                cumulative,
                _trace_ids(p.exemplars) if p.exemplars else None,
            )
    elif kind in ("gauge", "sum"):
        # Gauges, and non-monotonic sums (levels such as up-down counters).
        points = metric.gauge.data_points if kind == "gauge" else metric.sum.data_points
        info = batch.metric(name, unit)
        gauge = batch.gauge
        for p, attrs in zip(points, _column(points, column_key), strict=True):
            gauge(
                info,
                attrs,
                p.time_unix_nano,
                p.as_double or p.as_int,
                _trace_ids(p.exemplars) if p.exemplars else None,
            )
    elif kind == "histogram":
        hdata = metric.histogram
        info = batch.metric(name, unit)
        cumulative = hdata.aggregation_temporality == _CUMULATIVE
        histogram = batch.histogram
        raw_bounds: bytes | None = None
        bounds: list[float] = []
        counts_of = unpacker("Q", 1)
        points = hdata.data_points
        for h, attrs in zip(points, _column(points, column_key), strict=True):
            raw = h.explicit_bounds
            if raw != raw_bounds:
                # points of a metric share their bounds: the same list object for the core
                raw_bounds = raw
                bounds = list(unpack("d", raw))
                counts_of = unpacker("Q", len(bounds) + 1)
            try:
                counts = counts_of(h.bucket_counts)
            except struct.error:  # not one more count than bounds: the core counts it
                counts = unpack("Q", h.bucket_counts)
            histogram(
                info,
                attrs,
                h.start_time_unix_nano if cumulative else 0,
                h.time_unix_nano,
                h.count,
                h.sum,
                # optional fields: a non-zero value is set, only 0 needs asking
                lo if (lo := h.min) or h.HasField("min") else None,
                hi if (hi := h.max) or h.HasField("max") else None,
                bounds,
                counts,
                cumulative,
                _trace_ids(h.exemplars) if h.exemplars else None,
            )
    elif kind == "exponential_histogram":
        edata = metric.exponential_histogram
        info = batch.metric(name, unit)
        cumulative = edata.aggregation_temporality == _CUMULATIVE
        points = edata.data_points
        for e, attrs in zip(points, _column(points, column_key), strict=True):
            batch.exp_histogram(
                info,
                attrs,
                e.start_time_unix_nano,
                e.time_unix_nano,
                e.count,
                e.sum,
                lo if (lo := e.min) or e.HasField("min") else None,
                hi if (hi := e.max) or e.HasField("max") else None,
                e.scale,
                e.zero_count,
                e.positive.offset,
                e.positive.bucket_counts,
                e.negative.offset,
                e.negative.bucket_counts,
                cumulative,
                _trace_ids(e.exemplars) if e.exemplars else None,
            )
    elif kind == "summary":
        info = batch.metric(name, unit)
        points = metric.summary.data_points
        for s, attrs in zip(points, _column(points, column_key), strict=True):
            batch.summary(
                info,
                attrs,
                s.start_time_unix_nano,
                s.time_unix_nano,
                s.count,
                s.sum,
                [(q.quantile, q.value) for q in s.quantile_values],
            )
