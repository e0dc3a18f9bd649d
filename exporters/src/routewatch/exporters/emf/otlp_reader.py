"""Reader over OTLP protobuf `ExportMetricsServiceRequest`: feeds an `EmfBatch` directly.

It reads the request through its view (`otlp_view`: attributes and bucket arrays as bytes).
Point attributes come from a process-wide `AttributeCache` (see `otlp_attributes`): the same
tuple object for the same attributes, so create the batch with `stable_attributes=True`.
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
from routewatch.exporters.emf.otlp_attributes import AttributeCache, attributes
from routewatch.exporters.emf.otlp_view import metrics_view, unpack, unpacker

STABLE_ATTRIBUTES = True
_ATTRIBUTES = AttributeCache()

_CUMULATIVE = AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE


def read_otlp_metrics(batch: EmfBatch, request: ExportMetricsServiceRequest) -> None:
    """Feed every point of `request` to `batch`."""
    for rm in metrics_view(request).resource_metrics:
        batch.resource(attributes(rm.resource.attributes))
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                _read_metric(batch, metric)


def _trace_ids(exemplars: Iterable[Any]) -> list[str] | None:
    ids = [e.trace_id.hex() for e in exemplars if e.trace_id]
    return ids or None


def _read_metric(batch: EmfBatch, metric: Any) -> None:
    """`metric`: a Metric of the view. Per point: the attributes are looked up by the tuple of
    their KeyValues' bytes (decoded only when not cached yet)."""
    find, decode = _ATTRIBUTES.finder(), _ATTRIBUTES.of
    kind = metric.WhichOneof("data")
    name, unit = metric.name, metric.unit
    if kind == "sum" and metric.sum.is_monotonic:
        data = metric.sum
        info = batch.metric(name, unit, counter=True)
        cumulative = data.aggregation_temporality == _CUMULATIVE
        add_sum = batch.sum
        for p in data.data_points:
            key = tuple(p.attributes[:])
            add_sum(
                info,
                decode(key) if (attrs := find(key)) is None else attrs,
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
            key = tuple(p.attributes[:])
            gauge(
                info,
                decode(key) if (attrs := find(key)) is None else attrs,
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
        for h in hdata.data_points:
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
            key = tuple(h.attributes[:])
            histogram(
                info,
                decode(key) if (attrs := find(key)) is None else attrs,
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
        for e in edata.data_points:
            batch.exp_histogram(
                info,
                decode(e.attributes),
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
                decode(s.attributes),
                s.start_time_unix_nano,
                s.time_unix_nano,
                s.count,
                s.sum,
                [(q.quantile, q.value) for q in s.quantile_values],
            )
