"""A view of OTLP metrics that is cheaper to read than the generated message classes.

Reading a request through the protobuf API costs a wrapper object per message, repeated field
and element; what costs most is per data point: its attributes (a wrapper per key, value and
AnyValue) and its bucket arrays (a Python int or float per element, one at a time). The view
is the OTLP metrics schema, declared at import from OTLP's own descriptors (so every other
field keeps its number, type and name), with two fields read another way:

- a data point's `attributes` are `repeated bytes`: each KeyValue's wire bytes, so a tuple of
  them is an exact, hashable key for the decoded attributes (`otlp_attributes`);
- an explicit-bucket point's `bucket_counts` and `explicit_bounds` are `repeated bytes`: the
  packed array as it is on the wire (one chunk, or several that `packed` joins), unpacked with
  `struct` in one call.

Packed is how every encoder writes them (upb, Go, Java), but parsers must also accept them
unpacked (one field per element): such elements have another wire type than the view's
`bytes`, so they are unknown fields of the view. `unpacked_arrays` finds them; a request that
has them is read from its re-serialisation by upb, which writes them packed
(`canonical_payload`). The views' `resource_metrics` is field 1, as in both
`ExportMetricsServiceRequest` and `MetricsData`.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator, Sequence
from typing import Any, overload

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import Message
from google.protobuf.unknown_fields import UnknownFieldSet
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.metrics.v1 import metrics_pb2
from opentelemetry.proto.resource.v1 import resource_pb2

_PACKAGE = "routewatch.emf.view"
_OTLP_PACKAGE = "opentelemetry.proto.metrics.v1"
_POINTS = frozenset(
    {"NumberDataPoint", "HistogramDataPoint", "ExponentialHistogramDataPoint", "SummaryDataPoint"}
)
_PACKED_AS_BYTES = {"HistogramDataPoint": frozenset({"bucket_counts", "explicit_bounds"})}


def _file_proto(module: Any) -> descriptor_pb2.FileDescriptorProto:
    proto = descriptor_pb2.FileDescriptorProto()
    module.DESCRIPTOR.CopyToProto(proto)
    return proto


def _view_file() -> descriptor_pb2.FileDescriptorProto:
    field = descriptor_pb2.FieldDescriptorProto
    proto = _file_proto(metrics_pb2)
    proto.name = "routewatch/emf/otlp_metrics_view.proto"
    proto.package = _PACKAGE
    proto.ClearField("options")
    otlp_prefix, view_prefix = f".{_OTLP_PACKAGE}.", f".{_PACKAGE}."

    def rewrite(message: descriptor_pb2.DescriptorProto) -> None:
        as_bytes = _PACKED_AS_BYTES.get(message.name, frozenset())
        for f in message.field:
            if f.type_name.startswith(otlp_prefix):
                f.type_name = view_prefix + f.type_name[len(otlp_prefix) :]
            if message.name in _POINTS and f.name == "attributes":
                f.type = field.TYPE_BYTES
                f.ClearField("type_name")
            elif f.name in as_bytes:
                f.type = field.TYPE_BYTES
                f.ClearField("options")
        for nested in message.nested_type:
            rewrite(nested)

    for message in proto.message_type:
        rewrite(message)
    return proto


# The attributes view keeps, of each message, only the path to the points' attributes.
_ATTRIBUTE_PATHS = {
    "MetricsData": {"resource_metrics"},
    "ResourceMetrics": {"scope_metrics"},
    "ScopeMetrics": {"metrics"},
    "Metric": {"gauge", "sum", "histogram", "exponential_histogram", "summary"},
    "Gauge": {"data_points"},
    "Sum": {"data_points"},
    "Histogram": {"data_points"},
    "ExponentialHistogram": {"data_points"},
    "Summary": {"data_points"},
    **{point: {"attributes"} for point in _POINTS},
}


def _attributes_file(
    view: descriptor_pb2.FileDescriptorProto,
) -> descriptor_pb2.FileDescriptorProto:
    proto = descriptor_pb2.FileDescriptorProto()
    proto.CopyFrom(view)
    proto.name = "routewatch/emf/otlp_attributes_view.proto"
    proto.package = f"{_PACKAGE}.attributes"
    del proto.enum_type[:]
    kept = [m for m in proto.message_type if m.name in _ATTRIBUTE_PATHS]
    del proto.message_type[:]
    for message in kept:
        fields = [f for f in message.field if f.name in _ATTRIBUTE_PATHS[message.name]]
        del message.field[:]
        del message.nested_type[:]
        del message.enum_type[:]
        if message.name in _POINTS:
            del message.oneof_decl[:]  # proto3 optional fields, gone
        for f in fields:
            if f.HasField("type_name"):
                f.type_name = f.type_name.replace(f".{_PACKAGE}.", f".{proto.package}.")
            message.field.add().CopyFrom(f)
        proto.message_type.add().CopyFrom(message)
    return proto


_POINT_LISTS = frozenset({"Gauge", "Sum", "Histogram", "ExponentialHistogram", "Summary"})


def _columns_file(view: descriptor_pb2.FileDescriptorProto) -> descriptor_pb2.FileDescriptorProto:
    field = descriptor_pb2.FieldDescriptorProto
    proto = descriptor_pb2.FileDescriptorProto()
    proto.CopyFrom(view)
    proto.name = "routewatch/emf/otlp_columns_view.proto"
    proto.package = f"{_PACKAGE}.columns"
    for message in proto.message_type:
        for f in message.field:
            if f.HasField("type_name"):
                f.type_name = f.type_name.replace(f".{_PACKAGE}.", f".{proto.package}.")
            if message.name in _POINT_LISTS and f.name == "data_points":
                # singular: the points are merged, each of their fields appended to a column
                f.label = field.LABEL_OPTIONAL
        if message.name in _POINTS:
            del message.oneof_decl[:]
            if message.name not in _PACKED_AS_BYTES:
                # Attributes come from the attributes view: left unknown here, which parses
                # faster. Kept where arrays are read as bytes, so that an unknown field there
                # is an unpacked array (`unpacked_arrays`).
                columns = [f for f in message.field if f.name != "attributes"]
                del message.field[:]
                message.field.extend(columns)
            for f in message.field:
                f.ClearField("oneof_index")
                f.ClearField("proto3_optional")
                f.label = field.LABEL_REPEATED
                if f.type in (field.TYPE_MESSAGE, field.TYPE_ENUM):
                    f.type = field.TYPE_BYTES
                    f.ClearField("type_name")
    return proto


def _view_classes() -> tuple[type[Message], type[Message], type[Message]]:
    view = _view_file()
    # A pool of its own: the default pool (and the generated classes) stay untouched.
    pool = descriptor_pool.DescriptorPool()
    pool.Add(_file_proto(common_pb2))
    pool.Add(_file_proto(resource_pb2))
    pool.Add(view)
    attributes, columns = _attributes_file(view), _columns_file(view)
    pool.Add(attributes)
    pool.Add(columns)
    return (
        message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{_PACKAGE}.MetricsData")),
        message_factory.GetMessageClass(
            pool.FindMessageTypeByName(f"{attributes.package}.MetricsData")
        ),
        message_factory.GetMessageClass(
            pool.FindMessageTypeByName(f"{columns.package}.MetricsData")
        ),
    )


MetricsView, AttributesView, ColumnsView = _view_classes()


def metrics_view(request: Message | bytes) -> Any:
    """The view of an `ExportMetricsServiceRequest` (or `MetricsData`), or of its bytes."""
    payload = request if isinstance(request, bytes) else request.SerializeToString()
    return MetricsView.FromString(payload)


def packed(chunks: Sequence[bytes]) -> bytes:
    """A packed array of a point of the view (`bucket_counts`, `explicit_bounds`) as one bytes
    object: nearly always its one chunk."""
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def canonical_payload(payload: bytes) -> bytes:
    """The request re-serialised by upb: packed arrays, each field once. Raises `DecodeError`
    when `payload` is not an `ExportMetricsServiceRequest`."""
    return ExportMetricsServiceRequest.FromString(payload).SerializeToString()


def unpacked_arrays(columns: Any) -> bool:
    """Whether a metric of the columns view has explicit-bucket arrays written unpacked on the
    wire (or fields this schema does not know) in any of its points: the unknown fields of
    its merged points (the columns view declares every field of those, attributes included,
    so nothing else is unknown there)."""
    return columns.WhichOneof("data") == "histogram" and bool(
        len(UnknownFieldSet(columns.histogram.data_points))
    )


class RequestViews:
    """The views of one request (`payload`: its serialisation; a message is serialised), all
    parsed from the same bytes, so that resources, scopes, metrics and points are in the same
    order in each:

    - `columns`: the view with each metric's points merged into one message, whose every
      field is a column (`repeated`; number points' attributes are left unknown, which parses
      faster): a column holds one value per point when its length is the number of points
      (encoders write a field of a point at most once, and leave out proto3 zero values and
      absent optional fields; see `otlp_reader` for bytes written otherwise). Read a metric
      from there when its columns are full, and per point from `points` otherwise.
    - `attributes`: nothing but the points' attributes, so that a metric of it serialises to
      an exact key for the attributes of all its points (`AttributeColumns`); its points'
      `attributes` are the KeyValues' bytes, as in `points`.
    - `points`: the view (`MetricsView`), parsed on first use.
    """

    def __init__(self, payload: bytes | Message) -> None:
        if not isinstance(payload, bytes):
            payload = payload.SerializeToString()
        self.payload = payload
        self.columns: Any = ColumnsView.FromString(payload)
        self.attributes: Any = AttributesView.FromString(payload)
        # the rest of the request is unknown fields there: not part of the keys
        self.attributes.DiscardUnknownFields()
        self._points: Any = None

    @property
    def points(self) -> Any:
        if self._points is None:
            self._points = MetricsView.FromString(self.payload)
        return self._points


_STRUCTS: dict[tuple[str, int], Callable[[bytes], tuple[Any, ...]]] = {}


def unpacker(kind: str, size: int) -> Callable[[bytes], tuple[Any, ...]]:
    """Unpacks a packed array of `size` fixed-size little-endian elements (`Q`: fixed64,
    `d`: double); `struct.error` when the array has another size."""
    key = (kind, size)
    found = _STRUCTS.get(key)
    if found is None:
        if len(_STRUCTS) > 4096:
            _STRUCTS.clear()
        found = _STRUCTS[key] = struct.Struct(f"<{size}{kind}").unpack
    return found


class PackedRows(Sequence[tuple[int, ...]]):
    """Rows of `width` fixed64 counts packed one after the other (every point's
    `bucket_counts` of a metric), unpacked as they are read: the rows of a column are not
    all alive at once, nor do they wait for the garbage collector."""

    def __init__(self, packed_rows: bytes, width: int) -> None:
        self.width = width
        self._packed = packed_rows
        self._struct = struct.Struct(f"<{width}Q")
        self._len = len(packed_rows) // self._struct.size if width else 0

    def __len__(self) -> int:
        return self._len

    @overload
    def __getitem__(self, index: int) -> tuple[int, ...]: ...
    @overload
    def __getitem__(self, index: slice) -> list[tuple[int, ...]]: ...
    def __getitem__(self, index: int | slice) -> tuple[int, ...] | list[tuple[int, ...]]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._len))]
        if not -self._len <= index < self._len:
            raise IndexError(index)
        return self._struct.unpack_from(self._packed, (index % self._len) * self._struct.size)

    def __iter__(self) -> Iterator[tuple[int, ...]]:
        return self._struct.iter_unpack(self._packed)


def unpack(kind: str, raw: bytes) -> tuple[Any, ...]:
    """A packed array of fixed-size (8-byte) little-endian elements, whatever its size."""
    return unpacker(kind, len(raw) // 8)(raw)
