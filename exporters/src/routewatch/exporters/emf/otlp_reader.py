"""Reader over OTLP protobuf `ExportMetricsServiceRequest`: feeds an `EmfBatch` directly.

It reads the request through views of it (`otlp_view.RequestViews`): a metric whose points
all carry the fields its kind needs (nearly always) is read a column at a time, each column
one C call; other metrics point by point (attributes and bucket arrays as bytes either way).
Point attributes come, a metric at a time, from a process-wide `AttributeColumns` cache keyed
by the metric in the attributes view, and else point by point from a process-wide
`AttributeCache` (see `otlp_attributes`): either way the same tuple object for the same
attributes, so create the batch with `stable_attributes=True`.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from itertools import repeat
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
from routewatch.exporters.emf.otlp_view import RequestViews, unpack, unpacker

STABLE_ATTRIBUTES = True
_ATTRIBUTES = AttributeCache()
COLUMNS = AttributeColumns()

_CUMULATIVE = AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE


def read_otlp_metrics(
    batch: EmfBatch, request: ExportMetricsServiceRequest, *, by_columns: bool = True
) -> None:
    """Feed every point of `request` to `batch`. `by_columns=False`: every metric point by
    point (what metrics whose columns are not full get; the tests compare the two)."""
    views = RequestViews(request)
    resources = zip(views.columns.resource_metrics, views.attributes.resource_metrics, strict=True)
    for r, (rm, rm_attrs) in enumerate(resources):
        batch.resource(attributes(rm.resource.attributes))
        scopes = zip(rm.scope_metrics, rm_attrs.scope_metrics, strict=True)
        for s, (sm, sm_attrs) in enumerate(scopes):
            metrics = zip(sm.metrics, sm_attrs.metrics, strict=True)
            for m, (metric, metric_attrs) in enumerate(metrics):
                column = _column(metric_attrs)
                if not (by_columns and _read_columns(batch, metric, column)):
                    by_points = views.points.resource_metrics[r].scope_metrics[s].metrics[m]
                    _read_metric(batch, by_points, column)


def _column(metric: Any) -> AttributeColumn:
    """The attributes of the points of `metric` (of the attributes view)."""
    key = metric.SerializeToString()
    column = COLUMNS.get(key)
    if column is None:
        kind = metric.WhichOneof("data")
        points = getattr(metric, kind).data_points if kind else ()
        # decoded only when not cached yet
        find, decode = _ATTRIBUTES.finder(), _ATTRIBUTES.of
        column = tuple(
            [decode(k) if (a := find(k := tuple(p.attributes[:]))) is None else a for p in points]
        )
        COLUMNS.put(key, column)
    return column


def _full(n: int, *columns: Any) -> bool:
    return all(len(c) == n for c in columns)


def _read_columns(batch: EmfBatch, metric: Any, column: AttributeColumn) -> bool:
    """Feed the points of `metric` (of the columns view) if its columns allow (False, having
    fed nothing, if not): metrics without points; monotonic sums, gauges and explicit-bucket
    histograms without exemplars, whose points all have their time, value or count and
    buckets (and start time if cumulative)."""
    kind = metric.WhichOneof("data")
    n = len(column)
    if not n:
        # no points: only the metric's name check (no per-point view needed for that)
        if kind is not None:
            monotonic = kind == "sum" and metric.sum.is_monotonic
            batch.metric(metric.name, metric.unit, counter=monotonic)
        return True
    if kind not in ("sum", "gauge", "histogram"):
        return False
    data = getattr(metric, kind)
    cols = data.data_points
    if cols.exemplars:
        return False
    # delta conversion (which needs start times) for monotonic sums and histograms
    converts = kind == "histogram" or (kind == "sum" and data.is_monotonic)
    cumulative = converts and data.aggregation_temporality == _CUMULATIVE
    times = cols.time_unix_nano[:]
    # the start time only matters to delta conversion
    starts = cols.start_time_unix_nano[:] if cumulative else repeat(0, n)
    if not _full(n, times) or (cumulative and not _full(n, starts)):
        return False
    if kind == "histogram":
        return _read_histogram_columns(batch, metric, data, cols, column, starts, times)
    values = cols.as_double[:]
    if not _full(n, values):
        values = cols.as_int[:]  # whichever each point has: all the one or all the other
        if not _full(n, values):
            return False
    if kind == "sum" and data.is_monotonic:
        info = batch.metric(metric.name, metric.unit, counter=True)
        add_sum = batch.sum
        for attrs, start, ts, value in zip(column, starts, times, values, strict=True):
            add_sum(info, attrs, start, ts, value, cumulative, None)
    else:
        # Gauges, and non-monotonic sums (levels such as up-down counters).
        info = batch.metric(metric.name, metric.unit)
        gauge = batch.gauge
        for attrs, ts, value in zip(column, times, values, strict=True):
            gauge(info, attrs, ts, value, None)
    return True


def _read_histogram_columns(
    batch: EmfBatch,
    metric: Any,
    data: Any,
    cols: Any,
    column: AttributeColumn,
    starts: Any,
    times: list[int],
) -> bool:
    n = len(column)
    counts, all_bounds, all_buckets = cols.count[:], cols.explicit_bounds[:], cols.bucket_counts[:]
    if not _full(n, counts, all_bounds, all_buckets):
        return False
    # optional fields: in every point, or in none
    sums = cols.sum[:] or [0.0] * n
    mins, maxs = cols.min[:] or [None] * n, cols.max[:] or [None] * n
    if not _full(n, sums, mins, maxs):
        return False
    # One layout for all the points (the common case; else point by point): the same bounds,
    # and one more count than bounds in each point, so all counts unpack in one call.
    raw_bounds = all_bounds[0]
    size = len(raw_bounds) + 8
    if all_bounds.count(raw_bounds) != n or list(map(len, all_buckets)).count(size) != n:
        return False
    bounds = list(unpack("d", raw_bounds))
    rows = struct.Struct(f"<{size // 8}Q").iter_unpack(b"".join(all_buckets))
    info = batch.metric(metric.name, metric.unit)
    cumulative = data.aggregation_temporality == _CUMULATIVE
    histogram = batch.histogram
    for attrs, start, ts, count, total, vmin, vmax, bucket_counts in zip(
        column, starts, times, counts, sums, mins, maxs, rows, strict=True
    ):
        histogram(
            info, attrs, start, ts, count, total, vmin, vmax, bounds, bucket_counts, cumulative
        )
    return True


def _value(point: Any) -> float:
    """A number point's value: whichever is set (a double 0.0 stays a double)."""
    if (value := point.as_double) or point.WhichOneof("value") == "as_double":
        return value
    return point.as_int


def _trace_ids(exemplars: Iterable[Any]) -> list[str] | None:
    ids = [e.trace_id.hex() for e in exemplars if e.trace_id]
    return ids or None


def _read_metric(batch: EmfBatch, metric: Any, column: AttributeColumn) -> None:
    """Point by point. `metric`: a Metric of the view; `column`: its points' attributes."""
    kind = metric.WhichOneof("data")
    name, unit = metric.name, metric.unit
    if kind == "sum" and metric.sum.is_monotonic:
        data = metric.sum
        info = batch.metric(name, unit, counter=True)
        cumulative = data.aggregation_temporality == _CUMULATIVE
        add_sum = batch.sum
        points = data.data_points
        for p, attrs in zip(points, column, strict=True):
            add_sum(
                info,
                attrs,
                # the start time only matters to delta conversion
                p.start_time_unix_nano if cumulative else 0,
                p.time_unix_nano,
                _value(p),
                cumulative,
                _trace_ids(p.exemplars) if p.exemplars else None,
            )
    elif kind in ("gauge", "sum"):
        # Gauges, and non-monotonic sums (levels such as up-down counters).
        points = metric.gauge.data_points if kind == "gauge" else metric.sum.data_points
        info = batch.metric(name, unit)
        gauge = batch.gauge
        for p, attrs in zip(points, column, strict=True):
            gauge(
                info,
                attrs,
                p.time_unix_nano,
                _value(p),
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
        for h, attrs in zip(points, column, strict=True):
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
        for e, attrs in zip(points, column, strict=True):
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
        for s, attrs in zip(points, column, strict=True):
            batch.summary(
                info,
                attrs,
                s.start_time_unix_nano,
                s.time_unix_nano,
                s.count,
                s.sum,
                [(q.quantile, q.value) for q in s.quantile_values],
            )
