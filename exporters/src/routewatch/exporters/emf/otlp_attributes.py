"""Attributes of OTLP data points, decoded once per distinct attribute set.

Reading attributes through the protobuf API costs a wrapper object per key, value and
AnyValue: most of the OTLP reader's time. The same attribute sets recur on every metric and
every request, so they are cached by their wire bytes. Those are obtained cheaply: the point
is serialised (one C call) and parsed back as a "view" message, declared here with
protobuf's descriptor API, whose only known field is the attributes field as `repeated
bytes` (same field number, same wire type; OTLP keeps field numbers stable). Equal bytes are
equal attributes, so the cache is exact. The decoded (key, value) tuples it returns are the
same objects for the same attributes, so the EMF core can also find them by identity.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import Message
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

AttributeItems = tuple[tuple[str, Any], ...]
_CACHE_LIMIT = 65_536


def _view_classes() -> dict[int, type[Message]]:
    """A message class per attributes field number (7: number and summary points, 9:
    histogram points, 1: exponential histogram points)."""
    field = descriptor_pb2.FieldDescriptorProto
    proto = descriptor_pb2.FileDescriptorProto(
        name="routewatch/emf/attribute_views.proto",
        package="routewatch.emf.views",
        syntax="proto3",
    )
    for number in (1, 7, 9):
        message = proto.message_type.add(name=f"AttributesAt{number}")
        message.field.add(
            name="attributes", number=number, type=field.TYPE_BYTES, label=field.LABEL_REPEATED
        )
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    return {
        number: message_factory.GetMessageClass(
            pool.FindMessageTypeByName(f"routewatch.emf.views.AttributesAt{number}")
        )
        for number in (1, 7, 9)
    }


VIEWS = _view_classes()
NUMBER_POINT = VIEWS[7]
SUMMARY_POINT = VIEWS[7]
HISTOGRAM_POINT = VIEWS[9]
EXPONENTIAL_HISTOGRAM_POINT = VIEWS[1]


class AttributeCache:
    """Wire bytes of a point's attributes -> its decoded (key, value) pairs. Bounded;
    thread-safe (a race decodes twice, harmlessly)."""

    def __init__(self, limit: int = _CACHE_LIMIT) -> None:
        self._items: dict[tuple[bytes, ...], AttributeItems] = {}
        self._limit = limit
        self._lock = threading.Lock()

    def of(self, point: Any, view: type[Message]) -> AttributeItems:
        raw = tuple(view.FromString(point.SerializeToString()).attributes)
        found = self._items.get(raw)
        if found is None:
            found = attribute_items(point.attributes)
            with self._lock:
                if len(self._items) >= self._limit:
                    self._items.clear()
                self._items[raw] = found
        return found


def attribute_items(kvs: Iterable[KeyValue]) -> AttributeItems:
    """OTLP attributes as (key, value) pairs (strings kept as is, the common case)."""
    return tuple([(kv.key, (v := kv.value).string_value or any_value(v)) for kv in kvs])


def attributes(kvs: Iterable[KeyValue]) -> dict[str, Any]:
    """OTLP attributes as a dict of Python values."""
    return dict(attribute_items(kvs))


def any_value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind is None:
        return ""
    if kind == "array_value":
        return [any_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return attributes(value.kvlist_value.values)
    return getattr(value, kind)
