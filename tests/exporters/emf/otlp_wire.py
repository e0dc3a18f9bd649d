"""OTLP metrics requests on the wire as encoders other than upb may write them, all valid
protobuf: explicit-bucket arrays unpacked (one field per element) or in several packed chunks,
fields written more than once (protobuf keeps the last scalar and merges messages)."""

from __future__ import annotations

import struct
from collections.abc import Callable

from google.protobuf.message import Message
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

# How a histogram point's bucket_counts and explicit_bounds go on the wire.
ARRAY_ENCODINGS = ("packed", "unpacked", "split")


def number(message: type[Message], name: str) -> int:
    return message.DESCRIPTOR.fields_by_name[name].number  # type: ignore[no-any-return]


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def tag(field: int, wire_type: int) -> bytes:
    return varint(field << 3 | wire_type)


def delimited(field: int, payload: bytes) -> bytes:
    return tag(field, 2) + varint(len(payload)) + payload


def fixed64(field: int, value: int) -> bytes:
    return tag(field, 1) + struct.pack("<Q", value)


def double(field: int, value: float) -> bytes:
    return tag(field, 1) + struct.pack("<d", value)


def without(message: Message, *fields: str) -> bytes:
    """`message` serialised without `fields` (written separately after it)."""
    rest = type(message)()
    rest.CopyFrom(message)
    for name in fields:
        rest.ClearField(name)
    return rest.SerializeToString()


def histogram_point(point: HistogramDataPoint, encoding: str) -> bytes:
    if encoding == "packed":
        return point.SerializeToString()
    counts, bounds = list(point.bucket_counts), list(point.explicit_bounds)
    counts_field = number(HistogramDataPoint, "bucket_counts")
    bounds_field = number(HistogramDataPoint, "explicit_bounds")
    if encoding == "unpacked":
        arrays = b"".join(fixed64(counts_field, c) for c in counts)
        arrays += b"".join(double(bounds_field, b) for b in bounds)
    else:  # split: each array in two packed chunks, the first one empty when it has one element
        c, b = len(counts) // 2, len(bounds) // 2
        arrays = b"".join(
            delimited(counts_field, struct.pack(f"<{len(part)}Q", *part))
            for part in (counts[:c], counts[c:])
        )
        arrays += b"".join(
            delimited(bounds_field, struct.pack(f"<{len(part)}d", *part))
            for part in (bounds[:b], bounds[b:])
        )
    return without(point, "bucket_counts", "explicit_bounds") + arrays


def metric(m: Metric, encoding_of: Callable[[], str]) -> bytes:
    if m.WhichOneof("data") != "histogram":
        return m.SerializeToString()
    points_field = number(Histogram, "data_points")
    body = without(m.histogram, "data_points") + b"".join(
        delimited(points_field, histogram_point(p, encoding_of())) for p in m.histogram.data_points
    )
    return without(m, "histogram") + delimited(number(Metric, "histogram"), body)


def request_bytes(request: ExportMetricsServiceRequest, encoding_of: Callable[[], str]) -> bytes:
    """`request` on the wire, each histogram point's arrays as `encoding_of()` says."""
    out = b""
    for rm in request.resource_metrics:
        body = without(rm, "scope_metrics")
        for sm in rm.scope_metrics:
            scope = without(sm, "metrics") + b"".join(
                delimited(number(ScopeMetrics, "metrics"), metric(m, encoding_of))
                for m in sm.metrics
            )
            body += delimited(number(ResourceMetrics, "scope_metrics"), scope)
        out += delimited(number(ExportMetricsServiceRequest, "resource_metrics"), body)
    return out
