"""Reader over OpenTelemetry SDK `MetricsData`: walks it and feeds an `EmfBatch` directly.

A data point's attributes are its aggregation's mapping, the same object export after export:
create the batch with `stable_attributes=True`.
"""

from __future__ import annotations

from collections.abc import Sequence
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


def read_sdk_metrics(batch: EmfBatch, data: MetricsData) -> None:
    for rm in data.resource_metrics:
        batch.resource(rm.resource.attributes)
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                _read_metric(batch, metric.name, metric.unit, metric.data)


def _trace_ids(exemplars: Sequence[Any]) -> list[str] | None:
    ids = [format(e.trace_id, "032x") for e in exemplars if e.trace_id]
    return ids or None


def _read_metric(batch: EmfBatch, name: str, unit: str | None, data: Any) -> None:
    if isinstance(data, Sum) and data.is_monotonic:
        info = batch.metric(name, unit, counter=True)
        cumulative = data.aggregation_temporality == _CUMULATIVE
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
