"""OTLP point attributes decoded once per distinct set, keyed by their wire bytes."""

from __future__ import annotations

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    ExponentialHistogramDataPoint,
    HistogramDataPoint,
    NumberDataPoint,
)

from routewatch.exporters.emf.otlp_attributes import (
    EXPONENTIAL_HISTOGRAM_POINT,
    HISTOGRAM_POINT,
    NUMBER_POINT,
    AttributeCache,
)


def kv(key: str, value: AnyValue) -> KeyValue:
    return KeyValue(key=key, value=value)


ROUTE = [kv("route", AnyValue(string_value="direct")), kv("attempt", AnyValue(int_value=2))]


def test_same_attributes_same_object_whatever_the_point() -> None:
    cache = AttributeCache()
    a = cache.of(NumberDataPoint(attributes=ROUTE, as_double=1.0, time_unix_nano=1), NUMBER_POINT)
    b = cache.of(NumberDataPoint(attributes=ROUTE, as_int=7, time_unix_nano=2), NUMBER_POINT)
    h = cache.of(HistogramDataPoint(attributes=ROUTE, count=3, bucket_counts=[3]), HISTOGRAM_POINT)
    e = cache.of(
        ExponentialHistogramDataPoint(attributes=ROUTE, count=1, zero_count=1),
        EXPONENTIAL_HISTOGRAM_POINT,
    )
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
    got = [cache.of(NumberDataPoint(attributes=[kv("k", v)]), NUMBER_POINT)[0][1] for v in values]
    assert got == ["2", 2, 2.0, True, ["a"], ""]


def test_cache_is_bounded() -> None:
    cache = AttributeCache(limit=10)
    for i in range(25):
        point = NumberDataPoint(attributes=[kv("i", AnyValue(int_value=i))])
        assert cache.of(point, NUMBER_POINT) == (("i", i),)
    assert len(cache._items) <= 10
