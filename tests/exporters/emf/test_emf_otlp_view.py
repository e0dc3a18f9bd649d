"""The OTLP reader's view of a request: the same data, with attributes and explicit-bucket
arrays as bytes, whatever encoding the request came in."""

from __future__ import annotations

import struct

import pytest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    Histogram,
    HistogramDataPoint,
    Metric,
    ResourceMetrics,
    ScopeMetrics,
)

from routewatch.exporters.emf.otlp_view import PackedRows, metrics_view, packed, unpack


def fixed64(field: int, value: int) -> bytes:
    return bytes([field << 3 | 1]) + struct.pack("<Q", value)


def double(field: int, value: float) -> bytes:
    return bytes([field << 3 | 1]) + struct.pack("<d", value)


def request_of(point: HistogramDataPoint) -> ExportMetricsServiceRequest:
    metric = Metric(name="h", histogram=Histogram(data_points=[point]))
    return ExportMetricsServiceRequest(
        resource_metrics=[ResourceMetrics(scope_metrics=[ScopeMetrics(metrics=[metric])])]
    )


def view_point(request: ExportMetricsServiceRequest) -> HistogramDataPoint:
    view = metrics_view(request)
    return view.resource_metrics[0].scope_metrics[0].metrics[0].histogram.data_points[0]  # type: ignore[no-any-return]


def test_unpacked_arrays_on_the_wire_are_read_whole() -> None:
    # bucket_counts (6) and explicit_bounds (7) one element per field, as parsers must accept,
    # interleaved with count (4)
    wire = (
        fixed64(6, 3)
        + double(7, 1.5)
        + fixed64(4, 10)
        + fixed64(6, 0)
        + double(7, 2.5)
        + fixed64(6, 7)
    )
    point = view_point(request_of(HistogramDataPoint.FromString(wire)))
    assert point.count == 10
    assert unpack("Q", packed(point.bucket_counts)) == (3, 0, 7)
    assert unpack("d", packed(point.explicit_bounds)) == (1.5, 2.5)


def test_packed_arrays_and_other_fields_are_as_in_the_request() -> None:
    original = HistogramDataPoint(
        start_time_unix_nano=1,
        time_unix_nano=2,
        count=2**63 + 5,
        sum=-0.25,
        bucket_counts=[0, 2**64 - 1],
        explicit_bounds=[-1e300],
        min=-3.0,
        max=0.0,
    )
    point = view_point(request_of(original))
    assert unpack("Q", packed(point.bucket_counts)) == (0, 2**64 - 1)
    assert unpack("d", packed(point.explicit_bounds)) == (-1e300,)
    assert (point.start_time_unix_nano, point.time_unix_nano) == (1, 2)
    assert (point.count, point.sum, point.min, point.max) == (2**63 + 5, -0.25, -3.0, 0.0)
    assert point.HasField("max") and not view_point(request_of(HistogramDataPoint())).HasField(
        "max"
    )


def test_empty_arrays_are_empty_bytes() -> None:
    point = view_point(request_of(HistogramDataPoint(count=0)))
    assert unpack("Q", packed(point.bucket_counts)) == ()
    assert unpack("d", packed(point.explicit_bounds)) == ()


def test_packed_rows_read_as_the_rows_they_hold() -> None:
    rows = [(1, 0, 2**64 - 1), (0, 0, 0), (7, 8, 9)]
    packed_rows = PackedRows(b"".join(struct.pack("<3Q", *r) for r in rows), 3)
    assert (len(packed_rows), packed_rows.width) == (3, 3)
    assert list(packed_rows) == rows
    assert [packed_rows[i] for i in (0, 1, 2, -1, -3)] == [*rows, rows[-1], rows[0]]
    assert packed_rows[1:] == rows[1:]
    with pytest.raises(IndexError):
        packed_rows[3]
    assert list(PackedRows(b"", 3)) == []
