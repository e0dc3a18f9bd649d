"""Build OTLP metric requests from plain values: for rule unit tests, engine tests and the
latency benchmark (the engine only ever reads real OTLP messages)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    AGGREGATION_TEMPORALITY_CUMULATIVE,
    AGGREGATION_TEMPORALITY_DELTA,
    DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK,
    Metric,
)

MetricKind = Literal["histogram", "exponential_histogram", "sum", "gauge"]
Temporality = Literal["cumulative", "delta"]


@dataclass
class PointSpec:
    attributes: Mapping[str, str]
    time: float  # epoch seconds
    start: float = 0.0  # 0: unset
    value: float = 0.0  # sum / gauge
    bounds: Sequence[float] = ()  # explicit histogram
    counts: Sequence[float] = ()  # histogram bucket counts (len(bounds) + 1)
    sum: float = 0.0
    scale: int = 0  # exponential histogram
    offset: int = 0
    zero_count: int = 0
    exemplars: Sequence[tuple[float, str]] = field(default_factory=tuple)  # (value, trace id)
    stale: bool = False  # OTLP's "no recorded value" flag: the stream ended


def _attrs(target: object, values: Mapping[str, str]) -> None:
    target.extend(  # type: ignore[attr-defined]
        KeyValue(key=k, value=AnyValue(string_value=v)) for k, v in values.items()
    )


def _nanos(seconds: float) -> int:
    return round(seconds * 1e9)


def add_metric(
    metric: Metric,
    kind: MetricKind,
    points: Iterable[PointSpec],
    temporality: Temporality = "cumulative",
) -> None:
    agg = (
        AGGREGATION_TEMPORALITY_CUMULATIVE
        if temporality == "cumulative"
        else AGGREGATION_TEMPORALITY_DELTA
    )
    if kind == "gauge":
        for p in points:
            dp = metric.gauge.data_points.add(time_unix_nano=_nanos(p.time), as_double=p.value)
            _attrs(dp.attributes, p.attributes)
        return
    if kind == "sum":
        metric.sum.aggregation_temporality = agg
        metric.sum.is_monotonic = True
        for p in points:
            dp = metric.sum.data_points.add(
                time_unix_nano=_nanos(p.time),
                start_time_unix_nano=_nanos(p.start),
                as_double=p.value,
            )
            _attrs(dp.attributes, p.attributes)
            _exemplars(dp.exemplars, p)
            dp.flags = _flags(p)
        return
    if kind == "histogram":
        metric.histogram.aggregation_temporality = agg
        for p in points:
            hp = metric.histogram.data_points.add(
                time_unix_nano=_nanos(p.time),
                start_time_unix_nano=_nanos(p.start),
                count=int(sum(p.counts)),
                sum=p.sum,
                explicit_bounds=list(p.bounds),
                bucket_counts=[int(c) for c in p.counts],
            )
            _attrs(hp.attributes, p.attributes)
            _exemplars(hp.exemplars, p)
            hp.flags = _flags(p)
        return
    metric.exponential_histogram.aggregation_temporality = agg
    for p in points:
        ep = metric.exponential_histogram.data_points.add(
            time_unix_nano=_nanos(p.time),
            start_time_unix_nano=_nanos(p.start),
            count=int(sum(p.counts)) + p.zero_count,
            sum=p.sum,
            scale=p.scale,
            zero_count=p.zero_count,
        )
        ep.positive.offset = p.offset
        ep.positive.bucket_counts.extend(int(c) for c in p.counts)
        _attrs(ep.attributes, p.attributes)
        _exemplars(ep.exemplars, p)
        ep.flags = _flags(p)


def _flags(p: PointSpec) -> int:
    return DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK if p.stale else 0


def _exemplars(target: object, p: PointSpec) -> None:
    for value, trace_id in p.exemplars:
        target.add(  # type: ignore[attr-defined]
            time_unix_nano=_nanos(p.time),
            as_double=value,
            trace_id=bytes.fromhex(trace_id),
            span_id=bytes.fromhex(trace_id[:16]),
        )


def metrics_request(
    metric_name: str,
    kind: MetricKind,
    points: Iterable[PointSpec],
    temporality: Temporality = "cumulative",
    resource: Mapping[str, str] | None = None,
) -> ExportMetricsServiceRequest:
    request = ExportMetricsServiceRequest()
    rm = request.resource_metrics.add()
    _attrs(rm.resource.attributes, resource or {"service.name": "app"})
    sm = rm.scope_metrics.add()
    sm.scope.name = "routewatch"
    metric = sm.metrics.add(name=metric_name)
    add_metric(metric, kind, points, temporality)
    return request
