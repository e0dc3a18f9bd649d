"""Reader over OpenTelemetry SDK `MetricsData`: walks it and feeds an `EmfBatch` directly.

A data point's attributes are its aggregation's mapping, the same object export after export:
create the batch with `stable_attributes=True`. A metric's points go to the batch as columns
(each field of every point, taken in one C loop) unless they carry exemplars or their
histogram buckets differ; then point by point.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import repeat
from operator import attrgetter, is_
from typing import Any

from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    ExponentialHistogram,
    Gauge,
    Histogram,
    MetricsData,
    Sum,
)

from routewatch.exporters.emf.encode import EmfBatch

STABLE_ATTRIBUTES = True
_CUMULATIVE = AggregationTemporality.CUMULATIVE
_EMPTY: dict[str, Any] = {}
_EXEMPLARS = attrgetter("exemplars")
_NUMBER_FIELDS = attrgetter("attributes", "start_time_unix_nano", "time_unix_nano", "value")
_HISTOGRAM_FIELDS = attrgetter(
    "attributes",
    "start_time_unix_nano",
    "time_unix_nano",
    "count",
    "sum",
    "min",
    "max",
    "bucket_counts",
    "explicit_bounds",
)


def read_sdk_metrics(batch: EmfBatch, data: MetricsData) -> None:
    for rm in data.resource_metrics:
        batch.resource(rm.resource.attributes)
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                _read_metric(batch, metric.name, metric.unit, metric.data)


def _trace_ids(exemplars: Sequence[Any]) -> list[str] | None:
    ids = [format(e.trace_id, "032x") for e in exemplars if e.trace_id]
    return ids or None


def _plain(points: Sequence[Any]) -> bool:
    """Points that go as columns: some, none with exemplars."""
    return bool(points) and not any(map(_EXEMPLARS, points))


def _columns(points: Sequence[Any], fields: attrgetter[Any]) -> list[Sequence[Any]]:
    """The `fields` of every point, a column per field; attributes never None."""
    columns: list[Sequence[Any]] = list(zip(*map(fields, points), strict=True))
    if any(map(is_, columns[0], repeat(None))):
        columns[0] = [a or _EMPTY for a in columns[0]]
    return columns


def _read_metric(batch: EmfBatch, name: str, unit: str | None, data: Any) -> None:
    if isinstance(data, Sum) and data.is_monotonic:
        info = batch.metric(name, unit, counter=True)
        cumulative = data.aggregation_temporality == _CUMULATIVE
        if _plain(data.data_points):
            attrs, starts, times, values = _columns(data.data_points, _NUMBER_FIELDS)
            batch.sums(info, attrs, starts, times, values, cumulative)
            return
        add_sum = batch.sum
        for p in data.data_points:
            add_sum(
                info,
                p.attributes or _EMPTY,
                p.start_time_unix_nano,
                p.time_unix_nano,
                p.value,
                cumulative,
                _trace_ids(p.exemplars) if p.exemplars else None,
            )
    elif isinstance(data, Gauge | Sum):
        # Non-monotonic sums (up-down counters) are levels: sent as gauges.
        info = batch.metric(name, unit)
        if _plain(data.data_points):
            attrs, _, times, values = _columns(data.data_points, _NUMBER_FIELDS)
            batch.gauges(info, attrs, times, values)
            return
        gauge = batch.gauge
        for p in data.data_points:
            gauge(
                info,
                p.attributes or _EMPTY,
                p.time_unix_nano,
                p.value,
                _trace_ids(p.exemplars) if p.exemplars else None,
            )
    elif isinstance(data, Histogram):
        info = batch.metric(name, unit)
        cumulative = data.aggregation_temporality == _CUMULATIVE
        if _plain(data.data_points):
            attrs, starts, times, counts, sums, mins, maxs, buckets, bounds = _columns(
                data.data_points, _HISTOGRAM_FIELDS
            )
            if bounds.count(bounds[0]) == len(bounds):
                batch.histograms(
                    info, attrs, starts, times, counts, sums, mins, maxs, bounds[0], buckets,
                    cumulative,
                )  # fmt: skip
                return
        hist = batch.histogram
        for h in data.data_points:
            hist(
                info,
                h.attributes or _EMPTY,
                h.start_time_unix_nano,
                h.time_unix_nano,
                h.count,
                h.sum,
                h.min,
                h.max,
                h.explicit_bounds,
                h.bucket_counts,
                cumulative,
                _trace_ids(h.exemplars) if h.exemplars else None,
            )
    elif isinstance(data, ExponentialHistogram):
        info = batch.metric(name, unit)
        cumulative = data.aggregation_temporality == _CUMULATIVE
        for e in data.data_points:
            batch.exp_histogram(
                info,
                e.attributes or _EMPTY,
                e.start_time_unix_nano,
                e.time_unix_nano,
                e.count,
                e.sum,
                e.min,
                e.max,
                e.scale,
                e.zero_count,
                e.positive.offset,
                e.positive.bucket_counts,
                e.negative.offset,
                e.negative.bucket_counts,
                cumulative,
                _trace_ids(e.exemplars) if e.exemplars else None,
            )
