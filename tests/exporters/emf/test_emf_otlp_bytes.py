"""The OTLP reader's entry point from request bytes (what a receiver hands on): the same events
as from the parsed message, whatever valid encoding the bytes use; bytes that are not a
request are refused with a clear error, having changed nothing."""

from __future__ import annotations

from typing import Any

import pytest
from google.protobuf.message import DecodeError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    AggregationTemporality,
    Histogram,
    HistogramDataPoint,
    Metric,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
    Sum,
)
from otlp_strategies import T0, attributes, requests
from otlp_wire import (
    ARRAY_ENCODINGS,
    delimited,
    double,
    fixed64,
    histogram_point,
    number,
    request_bytes,
)

from routewatch.exporters.emf import (
    EmfConfig,
    EmfEncoder,
    LogEvent,
    MalformedRequestError,
    read_otlp_metrics,
    read_otlp_metrics_bytes,
)

CUMULATIVE = AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE
CONFIG = EmfConfig(namespace="Bytes", retain_initial_value_of_delta_metric=True)


def from_message(encoder: EmfEncoder, request: ExportMetricsServiceRequest) -> Any:
    batch = encoder.batch(stable_attributes=True)
    read_otlp_metrics(batch, request)
    out: dict[Any, list[LogEvent]] = batch.events()
    return out, encoder.stats.snapshot()


def from_bytes(encoder: EmfEncoder, payload: bytes) -> Any:
    batch = encoder.batch(stable_attributes=True)
    read_otlp_metrics_bytes(batch, payload)
    out: dict[Any, list[LogEvent]] = batch.events()
    return out, encoder.stats.snapshot()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(requests, min_size=1, max_size=3), st.data())
def test_bytes_give_the_events_of_the_message_whatever_the_array_encoding(
    sequence: list[ExportMetricsServiceRequest], data: st.DataObject
) -> None:
    by_message, by_bytes = EmfEncoder(CONFIG), EmfEncoder(CONFIG)
    for request in sequence:
        payload = request_bytes(request, lambda: data.draw(st.sampled_from(ARRAY_ENCODINGS)))
        assert ExportMetricsServiceRequest.FromString(payload) == request
        assert from_bytes(by_bytes, payload) == from_message(by_message, request)


def wrap(*metrics: bytes) -> bytes:
    """A request of one resource and scope holding the serialised `metrics`."""
    scope = b"".join(delimited(number(ScopeMetrics, "metrics"), m) for m in metrics)
    resource = delimited(number(ResourceMetrics, "scope_metrics"), scope)
    return delimited(number(ExportMetricsServiceRequest, "resource_metrics"), resource)


def counter_point(value: int, time: int = T0 + 10**9, route: str = "direct") -> NumberDataPoint:
    return NumberDataPoint(
        attributes=attributes([route]), start_time_unix_nano=T0, time_unix_nano=time, as_int=value
    )


def counter_bytes(*points: bytes, name: str = "requests") -> bytes:
    """A cumulative counter metric of the serialised `points`."""
    body = Sum(aggregation_temporality=CUMULATIVE, is_monotonic=True).SerializeToString()
    body += b"".join(delimited(number(Sum, "data_points"), p) for p in points)
    return Metric(name=name, unit="1").SerializeToString() + delimited(number(Metric, "sum"), body)


def histogram_bytes(*points: bytes) -> bytes:
    body = b"".join(delimited(number(Histogram, "data_points"), p) for p in points)
    metric = Metric(name="latency", unit="s").SerializeToString()
    return metric + delimited(number(Metric, "histogram"), body)


def full_histogram_point(route: str = "direct") -> HistogramDataPoint:
    return HistogramDataPoint(
        attributes=attributes([route]),
        time_unix_nano=T0 + 10**9,
        count=6,
        sum=9.0,
        min=0.5,
        max=4.0,
        explicit_bounds=[1.0, 2.0],
        bucket_counts=[1, 2, 3],
    )


def assert_read_as_protobuf_reads(payload: bytes) -> None:
    request = ExportMetricsServiceRequest.FromString(payload)
    assert from_bytes(EmfEncoder(CONFIG), payload) == from_message(EmfEncoder(CONFIG), request)


def test_a_scalar_written_twice_in_every_point_counts_once_the_last() -> None:
    time_field = number(NumberDataPoint, "time_unix_nano")
    later = T0 + 5 * 10**9
    points = [
        counter_point(3, route=r).SerializeToString() + fixed64(time_field, later)
        for r in ("direct", "mcp")
    ]
    payload = wrap(counter_bytes(*points))
    assert_read_as_protobuf_reads(payload)
    events, _ = from_bytes(EmfEncoder(CONFIG), payload)
    assert {ts for ts, _ in events[None]} == {later // 10**6}


def test_int_and_double_value_in_one_point_the_last_counts() -> None:
    double_field = number(NumberDataPoint, "as_double")
    point = counter_point(3).SerializeToString() + double(double_field, 7.5)
    assert_read_as_protobuf_reads(wrap(counter_bytes(point)))


def test_histogram_count_written_twice_and_arrays_in_chunks() -> None:
    count_field = number(HistogramDataPoint, "count")
    points = [
        histogram_point(full_histogram_point("direct"), "split") + fixed64(count_field, 7),
        histogram_point(full_histogram_point("mcp"), "unpacked"),
        histogram_point(full_histogram_point("cache"), "packed"),
    ]
    assert_read_as_protobuf_reads(wrap(histogram_bytes(*points)))


def valid_request() -> bytes:
    return wrap(
        counter_bytes(counter_point(5).SerializeToString()),
        histogram_bytes(full_histogram_point().SerializeToString()),
    )


BAD_METRIC = {
    "truncated": valid_request()[:-3],
    "not protobuf": b"\xff\xff\xff",
    # a point attribute that is no KeyValue (read as bytes until decoded)
    "attribute": wrap(
        counter_bytes(
            counter_point(5).SerializeToString()
            + delimited(number(NumberDataPoint, "attributes"), b"\x0a\xff")
        )
    ),
    "metric name not UTF-8": wrap(delimited(number(Metric, "name"), b"\xc3\x28")),
    # an exemplar that is no Exemplar (read as bytes by the columns view)
    "exemplar": wrap(
        histogram_bytes(
            full_histogram_point().SerializeToString()
            + delimited(number(HistogramDataPoint, "exemplars"), b"\x0a\xff")
        )
    ),
}


@pytest.mark.parametrize("case", list(BAD_METRIC))
def test_malformed_bytes_are_refused_having_changed_nothing(case: str) -> None:
    # a valid request first, whose points a request that follows it would change
    payload = valid_request() + BAD_METRIC[case]
    with pytest.raises(DecodeError):
        ExportMetricsServiceRequest.FromString(payload)  # protobuf refuses it too
    encoder = EmfEncoder(CONFIG)
    from_bytes(encoder, valid_request())
    series, stats = len(encoder.delta), encoder.stats.snapshot()
    batch = encoder.batch(stable_attributes=True)
    with pytest.raises(MalformedRequestError, match="not a serialised ExportMetricsServiceRequest"):
        read_otlp_metrics_bytes(batch, payload)
    assert batch.events() == {}
    assert (len(encoder.delta), encoder.stats.snapshot()) == (series, stats)
    # the encoder goes on: a later point of the counter is sent as the change since the first
    later = wrap(counter_bytes(counter_point(8, time=T0 + 2 * 10**9).SerializeToString()))
    events, _ = from_bytes(encoder, later)
    assert [b'"requests":3' in message for _, message in events[None]] == [True]


def test_empty_bytes_are_an_empty_request() -> None:
    assert from_bytes(EmfEncoder(CONFIG), b"") == ({}, {})
