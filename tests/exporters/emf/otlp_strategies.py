"""Hypothesis strategies of OTLP metrics requests whose points have each field set (often),
zero or absent, with exemplars or not: what makes the OTLP reader read a metric a column at a
time or point by point."""

from __future__ import annotations

from hypothesis import strategies as st
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    AggregationTemporality,
    Exemplar,
    Gauge,
    Histogram,
    HistogramDataPoint,
    Metric,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
    Sum,
)
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

T0 = 1_700_000_000 * 10**9
TEMPORALITIES = [
    AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA,
    AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE,
]
routes = st.lists(st.sampled_from(["direct", "mcp", "cache", ""]), max_size=3)
# Each field may be set (often), zero or absent in a given point.
starts = st.sampled_from([T0, T0, T0, 0])
times = st.sampled_from([T0 + 10**9, T0 + 10**9, T0 + 2 * 10**9, 0])
# trace ids shared between points (one trace records several metrics), new ones, or none
trace_ids = st.sampled_from([b"\x01" * 16, b"\x02" * 16, b""]) | st.binary(min_size=16, max_size=16)
exemplars = st.lists(trace_ids, max_size=3).map(
    lambda ids: [Exemplar(trace_id=t, as_double=1.0) for t in ids]
)


def attributes(route_list: list[str]) -> list[KeyValue]:
    return [KeyValue(key=f"k{i}", value=AnyValue(string_value=r)) for i, r in enumerate(route_list)]


@st.composite
def number_points(draw: st.DrawFn) -> NumberDataPoint:
    point = NumberDataPoint(
        attributes=attributes(draw(routes)),
        start_time_unix_nano=draw(starts),
        time_unix_nano=draw(times),
        exemplars=draw(exemplars),
    )
    value = draw(st.one_of(st.none(), st.integers(0, 10**6), st.floats(0, 1e6)))
    if isinstance(value, int):
        point.as_int = value
    elif isinstance(value, float):
        point.as_double = value
    return point


@st.composite
def histogram_points(draw: st.DrawFn) -> HistogramDataPoint:
    bounds = draw(st.sampled_from([[1.0, 2.0], [1.0, 2.0], [0.5], []]))
    counts = draw(st.lists(st.integers(0, 5), min_size=len(bounds) + 1, max_size=len(bounds) + 1))
    point = HistogramDataPoint(
        attributes=attributes(draw(routes)),
        start_time_unix_nano=draw(starts),
        time_unix_nano=draw(times),
        count=sum(counts),
        explicit_bounds=bounds,
        bucket_counts=draw(st.sampled_from([counts, counts, counts, []])),
        exemplars=draw(exemplars),
    )
    if draw(st.booleans()):
        point.sum = float(sum(counts))
    if draw(st.booleans()):
        point.min = 0.1
    if draw(st.booleans()):
        point.max = 3.0
    return point


@st.composite
def metrics(draw: st.DrawFn) -> Metric:
    name = draw(st.sampled_from(["a", "b", "c", ""]))
    kind = draw(st.sampled_from(["counter", "updown", "gauge", "histogram"]))
    temporality = draw(st.sampled_from(TEMPORALITIES))
    if kind == "histogram":
        points = draw(st.lists(histogram_points(), max_size=4))
        data = Histogram(data_points=points, aggregation_temporality=temporality)
        return Metric(name=name, unit="s", histogram=data)
    points = draw(st.lists(number_points(), max_size=4))
    if kind == "gauge":
        return Metric(name=name, unit="1", gauge=Gauge(data_points=points))
    data = Sum(
        data_points=points, aggregation_temporality=temporality, is_monotonic=kind == "counter"
    )
    return Metric(name=name, unit="{request}", sum=data)


requests = st.lists(
    st.lists(metrics(), max_size=4).map(
        lambda ms: ResourceMetrics(
            resource=Resource(attributes=attributes(["svc"])),
            scope_metrics=[ScopeMetrics(metrics=ms)],
        )
    ),
    min_size=1,
    max_size=2,
).map(lambda rms: ExportMetricsServiceRequest(resource_metrics=rms))
