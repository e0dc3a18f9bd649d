"""OTLP point attributes decoded once per distinct set, keyed by their wire bytes, which the
OTLP reader's view of a request holds."""

from __future__ import annotations

from typing import Any

import orjson
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

from routewatch.exporters.emf import EmfConfig, EmfEncoder, read_otlp_metrics
from routewatch.exporters.emf.otlp_attributes import AttributeCache, AttributeColumns
from routewatch.exporters.emf.otlp_view import RequestViews, metrics_view


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


def test_attribute_columns_found_by_equal_bytes_only() -> None:
    columns = AttributeColumns(limit_bytes=1000)
    a, b = (("k", "a"),), (("k", "b"),)
    columns.put(b"x" * 10, (a, b))
    assert columns.get(b"x" * 10) == (a, b)
    assert columns.get(b"x" * 9 + b"y") is None  # same size, other bytes
    assert columns.get(b"x" * 11) is None


def test_attribute_columns_are_bounded_by_size() -> None:
    columns = AttributeColumns(limit_bytes=100)
    columns.put(b"a" * 101, ())  # larger than the whole cache: not kept
    assert columns.get(b"a" * 101) is None
    for i in range(30):
        columns.put(bytes([i]) * 10, ((str(i), i),))
        assert columns.get(bytes([i]) * 10) == ((str(i), i),)
    assert columns._bytes <= 100
    assert sum(len(same) for same in columns._by_size.values()) <= 10


def column_keys(*metrics: Metric) -> list[bytes]:
    request = ExportMetricsServiceRequest(
        resource_metrics=[ResourceMetrics(scope_metrics=[ScopeMetrics(metrics=metrics)])]
    )
    return [
        metric.SerializeToString()
        for metric in RequestViews(request).attributes.resource_metrics[0].scope_metrics[0].metrics
    ]


def test_column_keys_depend_on_the_attributes_of_each_point_only() -> None:
    other = [kv("route", AnyValue(string_value="mcp"))]

    def gauge(name: str, *sets: list[KeyValue], value: float = 1.0) -> Metric:
        points = [NumberDataPoint(attributes=s, as_double=value, time_unix_nano=5) for s in sets]
        return Metric(name=name, unit="s", gauge=Gauge(data_points=points))

    keys = column_keys(
        gauge("a", ROUTE, other),
        gauge("b", ROUTE, other, value=2.0),  # other name, unit and values: same column
        gauge("c", other, ROUTE),  # other order
        gauge("d", ROUTE + other),  # the same KeyValues, in one point
        gauge("e", ROUTE, other, []),  # one more point, without attributes
    )
    assert keys[0] == keys[1]
    assert len(set(keys[1:])) == 4


def test_reader_takes_each_requests_own_attributes() -> None:
    """Columns cached from one request never stand in for another request's attributes."""
    encoder = EmfEncoder(EmfConfig(namespace="N"))

    def routes_of(*sets: list[KeyValue]) -> list[str]:
        points = [NumberDataPoint(attributes=s, as_double=1.0, time_unix_nano=10**15) for s in sets]
        request = ExportMetricsServiceRequest(
            resource_metrics=[
                ResourceMetrics(
                    scope_metrics=[
                        ScopeMetrics(metrics=[Metric(name="m", gauge=Gauge(data_points=points))])
                    ]
                )
            ]
        )
        batch = encoder.batch(stable_attributes=True)
        read_otlp_metrics(batch, request)
        return [
            orjson.loads(message).get("route", "-")
            for events in batch.events().values()
            for _, message in events
        ]

    mcp = [kv("route", AnyValue(string_value="mcp"))]
    assert routes_of(ROUTE, mcp) == ["direct", "mcp"]
    assert routes_of(ROUTE, mcp) == ["direct", "mcp"]  # the cached column
    assert routes_of(mcp, ROUTE) == ["mcp", "direct"]
    assert routes_of(mcp, []) == ["mcp", "-"]
