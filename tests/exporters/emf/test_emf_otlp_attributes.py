"""OTLP point attributes decoded once per distinct set, keyed by their wire bytes, which the
OTLP reader's view of a request holds."""

from __future__ import annotations

from typing import Any

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    ExponentialHistogram,
    ExponentialHistogramDataPoint,
    Gauge,
    Histogram,
    HistogramDataPoint,
    Metric,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
)

from routewatch.exporters.emf.otlp_attributes import AttributeCache
from routewatch.exporters.emf.otlp_view import metrics_view


def kv(key: str, value: AnyValue) -> KeyValue:
    return KeyValue(key=key, value=value)


ROUTE = [kv("route", AnyValue(string_value="direct")), kv("attempt", AnyValue(int_value=2))]


def view_points(*metrics: Metric) -> list[Any]:
    """The data points of `metrics`, as the OTLP reader's view has them."""
    request = ExportMetricsServiceRequest(
        resource_metrics=[ResourceMetrics(scope_metrics=[ScopeMetrics(metrics=metrics)])]
    )
    view = metrics_view(request)
    return [
        point
        for metric in view.resource_metrics[0].scope_metrics[0].metrics
        for point in getattr(metric, metric.WhichOneof("data")).data_points
    ]


def test_same_attributes_same_object_whatever_the_point() -> None:
    cache = AttributeCache()
    points = view_points(
        Metric(
            name="g",
            gauge=Gauge(
                data_points=[
                    NumberDataPoint(attributes=ROUTE, as_double=1.0, time_unix_nano=1),
                    NumberDataPoint(attributes=ROUTE, as_int=7, time_unix_nano=2),
                ]
            ),
        ),
        Metric(
            name="h",
            histogram=Histogram(
                data_points=[HistogramDataPoint(attributes=ROUTE, count=3, bucket_counts=[3])]
            ),
        ),
        Metric(
            name="e",
            exponential_histogram=ExponentialHistogram(
                data_points=[ExponentialHistogramDataPoint(attributes=ROUTE, count=1, zero_count=1)]
            ),
        ),
    )
    a, b, h, e = (cache.of(p.attributes) for p in points)
    assert a == (("route", "direct"), ("attempt", 2))
    assert a is b is h is e


def test_different_values_and_kinds_are_different_entries() -> None:
    cache = AttributeCache()
    values = [
        AnyValue(string_value="2"),
        AnyValue(int_value=2),
        AnyValue(double_value=2.0),
        AnyValue(bool_value=True),
        AnyValue(array_value=ArrayValue(values=[AnyValue(string_value="a")])),
        AnyValue(),
    ]
    points = view_points(
        Metric(
            name="g",
            gauge=Gauge(data_points=[NumberDataPoint(attributes=[kv("k", v)]) for v in values]),
        )
    )
    assert [cache.of(p.attributes)[0][1] for p in points] == ["2", 2, 2.0, True, ["a"], ""]


def test_empty_keys_and_missing_values_are_kept_apart() -> None:
    """A KeyValue without key or without value is still one attribute of its own."""
    cache = AttributeCache()
    x = AnyValue(string_value="x")
    sets = [
        [kv("a", x)],
        [kv("", x), KeyValue(key="a")],
        [kv("a", x), KeyValue()],
        [],
    ]
    points = view_points(
        Metric(name="g", gauge=Gauge(data_points=[NumberDataPoint(attributes=s) for s in sets]))
    )
    assert [cache.of(p.attributes) for p in points] == [
        (("a", "x"),),
        (("", "x"), ("a", "")),
        (("a", "x"), ("", "")),
        (),
    ]


def test_cache_is_bounded() -> None:
    cache = AttributeCache(limit=10)
    points = view_points(
        Metric(
            name="g",
            gauge=Gauge(
                data_points=[
                    NumberDataPoint(attributes=[kv("i", AnyValue(int_value=i))]) for i in range(25)
                ]
            ),
        )
    )
    for i, point in enumerate(points):
        assert cache.of(point.attributes) == (("i", i),)
    assert len(cache._items) <= 10
