"""Reader over OpenTelemetry SDK `MetricsData`: walks it and feeds an `EmfBatch` directly.

A data point's attributes are its aggregation's mapping, the same object export after export:
create the batch with `stable_attributes=True`.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    ExponentialHistogram,
    Gauge,
    Histogram,
    MetricsData,
    Sum,
)

from routewatch.exporters.emf.encode import EmfBatch, exemplar_trace_ids

STABLE_ATTRIBUTES = True
_CUMULATIVE = AggregationTemporality.CUMULATIVE
_EMPTY: dict[str, Any] = {}


def read_sdk_metrics(batch: EmfBatch, data: MetricsData) -> None:
    for rm in data.resource_metrics:
        batch.resource(rm.resource.attributes)
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                _read_metric(batch, metric.name, metric.unit, metric.data)


def _read_metric(batch: EmfBatch, name: str, unit: str | None, data: Any) -> None:
    if isinstance(data, Sum) and data.is_monotonic:
        info = batch.metric(name, unit, counter=True)
        cumulative = data.aggregation_temporality == _CUMULATIVE
        batch.number_points(info, data.data_points, cumulative, True)
    elif isinstance(data, Gauge | Sum):
        # Non-monotonic sums (up-down counters) are levels: sent as gauges.
        info = batch.metric(name, unit)
        batch.number_points(info, data.data_points, False, False)
    elif isinstance(data, Histogram):
        info = batch.metric(name, unit)
        cumulative = data.aggregation_temporality == _CUMULATIVE
        batch.histogram_points(info, data.data_points, cumulative)
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
                exemplar_trace_ids(e.exemplars),
            )
