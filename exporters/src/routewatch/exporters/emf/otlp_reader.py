"""Reader over OTLP protobuf `ExportMetricsServiceRequest`: feeds an `EmfBatch` directly.

Point attributes come from a process-wide `AttributeCache` (see `otlp_attributes`): the same
tuple object for the same attributes, so create the batch with `stable_attributes=True`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.metrics.v1.metrics_pb2 import AggregationTemporality, Metric

from routewatch.exporters.emf.encode import EmfBatch
from routewatch.exporters.emf.otlp_attributes import (
    EXPONENTIAL_HISTOGRAM_POINT,
    HISTOGRAM_POINT,
    NUMBER_POINT,
    SUMMARY_POINT,
    AttributeCache,
    attributes,
)

STABLE_ATTRIBUTES = True
_ATTRIBUTES = AttributeCache()

_CUMULATIVE = AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE


def read_otlp_metrics(batch: EmfBatch, request: ExportMetricsServiceRequest) -> None:
    """Feed every point of `request` to `batch`."""
    for rm in request.resource_metrics:
        batch.resource(attributes(rm.resource.attributes))
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                _read_metric(batch, metric)


def _trace_ids(exemplars: Iterable[Any]) -> list[str] | None:
    ids = [e.trace_id.hex() for e in exemplars if e.trace_id]
    return ids or None


def _read_metric(batch: EmfBatch, metric: Metric) -> None:
    attrs_of = _ATTRIBUTES.of
    kind = metric.WhichOneof("data")
    name, unit = metric.name, metric.unit
    if kind == "sum" and metric.sum.is_monotonic:
        data = metric.sum
        info = batch.metric(name, unit, counter=True)
        cumulative = data.aggregation_temporality == _CUMULATIVE
        add_sum = batch.sum
        for p in data.data_points:
            add_sum(
                info,
                attrs_of(p, NUMBER_POINT),
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
        for p in points:
            gauge(
                info,
                attrs_of(p, NUMBER_POINT),
                p.time_unix_nano,
                p.as_double or p.as_int,
                _trace_ids(p.exemplars) if p.exemplars else None,
            )
    elif kind == "histogram":
        hdata = metric.histogram
        info = batch.metric(name, unit)
        cumulative = hdata.aggregation_temporality == _CUMULATIVE
        histogram = batch.histogram
        for h in hdata.data_points:
            histogram(
                info,
                attrs_of(h, HISTOGRAM_POINT),
                h.start_time_unix_nano if cumulative else 0,
                h.time_unix_nano,
                h.count,
                h.sum,
                # optional fields: a non-zero value is set, only 0 needs asking
                lo if (lo := h.min) or h.HasField("min") else None,
                hi if (hi := h.max) or h.HasField("max") else None,
                h.explicit_bounds,
                h.bucket_counts,
                cumulative,
                _trace_ids(h.exemplars) if h.exemplars else None,
            )
    elif kind == "exponential_histogram":
        edata = metric.exponential_histogram
        info = batch.metric(name, unit)
        cumulative = edata.aggregation_temporality == _CUMULATIVE
        for e in edata.data_points:
            batch.exp_histogram(
                info,
                attrs_of(e, EXPONENTIAL_HISTOGRAM_POINT),
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
        for s in metric.summary.data_points:
            batch.summary(
                info,
                attrs_of(s, SUMMARY_POINT),
                s.start_time_unix_nano,
                s.time_unix_nano,
                s.count,
                s.sum,
                [(q.quantile, q.value) for q in s.quantile_values],
            )
