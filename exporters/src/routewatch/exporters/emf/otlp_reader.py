"""Reader over OTLP metrics requests: feeds an `EmfBatch` directly.

Two entry points, one path: `read_otlp_metrics_bytes` reads a serialised
`ExportMetricsServiceRequest` (as a receiver gets it off the wire) straight into views of it
(`otlp_view.RequestViews`), parsed from those bytes once each; `read_otlp_metrics` serialises
a request message and reads the bytes.

A metric whose points all carry the fields its kind needs (nearly always) is read a column at
a time, each column one C call, and handed to the batch as columns (with, when its points
have exemplars, which the columns view merges, each point's exemplars from the points view);
other metrics point by point (attributes and bucket arrays as bytes either way). Point
attributes come, a metric at a time, from a process-wide `AttributeColumns` cache keyed by the
metric in the attributes view, and else point by point from a process-wide `AttributeCache`
(see `otlp_attributes`): either way the same tuple objects for the same attributes, so create
the batch with `stable_attributes=True`.

The whole request is parsed and checked before the first point reaches the batch, so bytes
that are not a request raise `MalformedRequestError` having changed nothing (delta state
included). Bytes that are a request but written otherwise than upb writes them are read as
protobuf defines:
- explicit-bucket arrays written unpacked: found (`otlp_view.unpacked_arrays`), and the request
  is read from its re-serialisation by upb;
- a field written more than once in a point (protobuf keeps the last scalar and concatenates
  repeated fields; only concatenating serialised points produces it), a packed array in
  several chunks: the column is longer than the points, so the metric is read point by point,
  where the view keeps the last scalar and `packed` joins the chunks; `as_int` and
  `as_double` both in a point likewise.
Not detected: a field written twice in one point while another point of the same metric lacks
it, so that the column has as many entries as there are points. For a time, a value or a
bucket array, the point that lacks it is invalid OTLP; `read_otlp_metrics` (from a message)
reads even that as protobuf does.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.metrics.v1.metrics_pb2 import AggregationTemporality

from routewatch.exporters.emf.encode import EmfBatch, exemplar_trace_ids
from routewatch.exporters.emf.otlp_attributes import (
    AttributeCache,
    AttributeColumn,
    AttributeColumns,
    attributes,
)
from routewatch.exporters.emf.otlp_view import (
    PackedRows,
    RequestViews,
    canonical_payload,
    packed,
    unpack,
    unpacked_arrays,
    unpacker,
)

STABLE_ATTRIBUTES = True
_ATTRIBUTES = AttributeCache()
COLUMNS = AttributeColumns()

_CUMULATIVE = AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE
# Feeds one metric's points to a batch.
_Read = Callable[[EmfBatch], None]


class MalformedRequestError(ValueError):
    """The bytes are not a serialised `ExportMetricsServiceRequest`."""


def read_otlp_metrics(
    batch: EmfBatch, request: ExportMetricsServiceRequest, *, by_columns: bool = True
) -> None:
    """Feed every point of `request` to `batch` (for callers that hold a message)."""
    read_otlp_metrics_bytes(batch, request.SerializeToString(), by_columns=by_columns)


def read_otlp_metrics_bytes(batch: EmfBatch, payload: bytes, *, by_columns: bool = True) -> None:
    """Feed every point of the serialised `ExportMetricsServiceRequest` `payload` to `batch`.
    `by_columns=False`: every metric point by point (what metrics whose columns are not full
    get; the tests compare the two). Raises `MalformedRequestError`, having fed nothing, when
    `payload` is not a request."""
    try:
        views = RequestViews(payload)
        if any(unpacked_arrays(metric) for metric in _metrics(views.columns)):
            views = RequestViews(canonical_payload(payload))
        plan = _plan(views, by_columns)
    except DecodeError as err:
        raise MalformedRequestError(
            f"malformed OTLP metrics request ({len(payload)} bytes): "
            f"not a serialised ExportMetricsServiceRequest: {err}"
        ) from err
    for resource, reads in plan:
        batch.resource(resource)
        for read in reads:
            read(batch)


def _metrics(view: Any) -> Iterator[Any]:
    for rm in view.resource_metrics:
        for sm in rm.scope_metrics:
            yield from sm.metrics


def _plan(views: RequestViews, by_columns: bool) -> list[tuple[dict[str, Any], list[_Read]]]:
    """What to feed, per resource: a reader per metric, its columns extracted and its
    attributes decoded (so every parse error is raised here)."""
    plan = []
    resources = zip(views.columns.resource_metrics, views.attributes.resource_metrics, strict=True)
    for r, (rm, rm_attrs) in enumerate(resources):
        reads: list[_Read] = []
        scopes = zip(rm.scope_metrics, rm_attrs.scope_metrics, strict=True)
        for s, (sm, sm_attrs) in enumerate(scopes):
            metrics = zip(sm.metrics, sm_attrs.metrics, strict=True)
            for m, (metric, metric_attrs) in enumerate(metrics):
                column = _column(metric_attrs)
                points_of = partial(_points_metric, views, r, s, m)
                read = _columns_reader(metric, column, points_of) if by_columns else None
                if read is None:
                    read = partial(_read_metric, metric=points_of(), column=column)
                reads.append(read)
        plan.append((attributes(rm.resource.attributes), reads))
    return plan


def _points_metric(views: RequestViews, r: int, s: int, m: int) -> Any:
    """Metric `m` of scope `s` of resource `r`, of the points view."""
    return views.points.resource_metrics[r].scope_metrics[s].metrics[m]


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


def _columns_reader(
    metric: Any, column: AttributeColumn, points_of: Callable[[], Any]
) -> _Read | None:
    """A reader of `metric` (of the columns view) a column at a time, if its columns allow
    (None if not): metrics without points; monotonic sums, gauges and explicit-bucket
    histograms whose points all have their time, value or count and buckets (and start time
    if cumulative). Exemplars (merged in the columns view) are read per point from the
    points view (`points_of`: the metric there)."""
    kind = metric.WhichOneof("data")
    name, unit = metric.name, metric.unit
    n = len(column)
    if not n:
        # no points: only the metric's name check (no per-point view needed for that)
        if kind is None:
            return _nothing
        monotonic = kind == "sum" and metric.sum.is_monotonic
        return lambda batch: _declare(batch, name, unit, monotonic)
    if kind not in ("sum", "gauge", "histogram"):
        return None
    data = getattr(metric, kind)
    cols = data.data_points
    exemplars = None
    if cols.exemplars:
        exemplars = [p.exemplars for p in getattr(points_of(), kind).data_points]
    # delta conversion (which needs start times) for monotonic sums and histograms
    converts = kind == "histogram" or (kind == "sum" and data.is_monotonic)
    cumulative = converts and data.aggregation_temporality == _CUMULATIVE
    times = cols.time_unix_nano[:]
    # the start time only matters to delta conversion
    starts = cols.start_time_unix_nano[:] if cumulative else [0] * n
    if not _full(n, times, starts):
        return None
    if kind == "histogram":
        return _histogram_columns(name, unit, cols, column, starts, times, cumulative, exemplars)
    # whichever each point has: all the one or all the other (a point with both is read by
    # points, where the last one written wins, as protobuf has it)
    doubles, ints = cols.as_double[:], cols.as_int[:]
    if len(doubles) + len(ints) != n or not (_full(n, doubles) or _full(n, ints)):
        return None
    values = doubles or ints
    if kind == "sum" and data.is_monotonic:
        return lambda batch: batch.sums(
            batch.metric(name, unit, counter=True),
            column,
            starts,
            times,
            values,
            cumulative,
            recurring=True,
            exemplars=exemplars,
        )
    # Gauges, and non-monotonic sums (levels such as up-down counters).
    return lambda batch: batch.gauges(
        batch.metric(name, unit), column, times, values, recurring=True, exemplars=exemplars
    )


def _nothing(batch: EmfBatch) -> None:
    pass


def _declare(batch: EmfBatch, name: str, unit: str, counter: bool) -> None:
    batch.metric(name, unit, counter=counter)


def _histogram_columns(
    name: str,
    unit: str,
    cols: Any,
    column: AttributeColumn,
    starts: list[int],
    times: list[int],
    cumulative: bool,
    exemplars: list[Any] | None,
) -> _Read | None:
    n = len(column)
    counts, all_bounds, all_buckets = cols.count[:], cols.explicit_bounds[:], cols.bucket_counts[:]
    if not _full(n, counts, all_bounds, all_buckets):
        return None
    # optional fields: in every point, or in none
    sums = cols.sum[:] or [0.0] * n
    mins, maxs = cols.min[:] or [None] * n, cols.max[:] or [None] * n
    if not _full(n, sums, mins, maxs):
        return None
    # One layout for all the points (the common case; else point by point): the same bounds,
    # and one more count than bounds in each point, so all counts unpack in one call.
    raw_bounds = all_bounds[0]
    size = len(raw_bounds) + 8
    if all_bounds.count(raw_bounds) != n or list(map(len, all_buckets)).count(size) != n:
        return None
    bounds = list(unpack("d", raw_bounds))
    buckets = PackedRows(b"".join(all_buckets), size // 8)
    return lambda batch: batch.histograms(
        batch.metric(name, unit),
        column,
        starts,
        times,
        counts,
        sums,
        mins,
        maxs,
        bounds,
        buckets,
        cumulative,
        recurring=True,
        exemplars=exemplars,
    )


def _value(point: Any) -> float:
    """A number point's value: whichever is set (a double 0.0 stays a double)."""
    if (value := point.as_double) or point.WhichOneof("value") == "as_double":
        return value
    return point.as_int


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
                exemplar_trace_ids(p.exemplars),
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
                exemplar_trace_ids(p.exemplars),
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
            raw = packed(h.explicit_bounds)
            if raw != raw_bounds:
                # points of a metric share their bounds: the same list object for the core
                raw_bounds = raw
                bounds = list(unpack("d", raw))
                counts_of = unpacker("Q", len(bounds) + 1)
            raw_counts = packed(h.bucket_counts)
            try:
                counts = counts_of(raw_counts)
            except struct.error:  # not one more count than bounds: the core counts it
                counts = unpack("Q", raw_counts)
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
                exemplar_trace_ids(h.exemplars),
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
                exemplar_trace_ids(e.exemplars),
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
