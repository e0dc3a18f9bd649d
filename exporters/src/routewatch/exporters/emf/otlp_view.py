"""A view of OTLP metrics that is cheaper to read than the generated message classes.

Reading a request through the protobuf API costs a wrapper object per message, repeated field
and element; what costs most is per data point: its attributes (a wrapper per key, value and
AnyValue) and its bucket arrays (a Python int or float per element, one at a time). The view
is the OTLP metrics schema, declared at import from OTLP's own descriptors (so every other
field keeps its number, type and name), with two fields read another way:

- a data point's `attributes` are `repeated bytes`: each KeyValue's wire bytes, so a tuple of
  them is an exact, hashable key for the decoded attributes (`otlp_attributes`);
- an explicit-bucket point's `bucket_counts` and `explicit_bounds` are `bytes`: the packed
  array as it is on the wire, unpacked with `struct` in one call.

`metrics_view` parses the view from the request's serialisation by upb, which writes proto3
repeated scalars packed (one length-delimited field), whatever encoding the request came in:
so those `bytes` fields always hold the whole arrays (a test pins it). The view's
`resource_metrics` is field 1, as in both `ExportMetricsServiceRequest` and `MetricsData`.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import Message
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


def _view_class() -> type[Message]:
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
                f.label = field.LABEL_OPTIONAL
                f.ClearField("options")
        for nested in message.nested_type:
            rewrite(nested)

    for message in proto.message_type:
        rewrite(message)
    # A pool of its own: the default pool (and the generated classes) stay untouched.
    pool = descriptor_pool.DescriptorPool()
    pool.Add(_file_proto(common_pb2))
    pool.Add(_file_proto(resource_pb2))
    pool.Add(proto)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{_PACKAGE}.MetricsData"))


MetricsView = _view_class()


def metrics_view(request: Message) -> Any:
    """The view of an `ExportMetricsServiceRequest` (or `MetricsData`)."""
    return MetricsView.FromString(request.SerializeToString())


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


def unpack(kind: str, raw: bytes) -> tuple[Any, ...]:
    """A packed array of fixed-size (8-byte) little-endian elements, whatever its size."""
    return unpacker(kind, len(raw) // 8)(raw)
