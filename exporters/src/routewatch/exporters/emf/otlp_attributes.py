"""Attributes of OTLP data points, decoded once per distinct attribute set.

Reading attributes through the protobuf API costs a wrapper object per key, value and
AnyValue. The same attribute sets recur on every metric and every request, so they are cached
by their wire bytes, which the OTLP reader gets for free from its view (`otlp_view`): a
point's attributes there are the KeyValues' bytes. Equal bytes are equal attributes, so the
cache is exact. The decoded (key, value) tuples it returns are the same objects for the same
attributes, so the EMF core can also find them by identity.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

AttributeItems = tuple[tuple[str, Any], ...]
# The attributes of each point of a metric, in order.
AttributeColumn = tuple[AttributeItems, ...]
_CACHE_LIMIT = 65_536
_COLUMNS_LIMIT_BYTES = 16 * 1024 * 1024
_COLUMNS_PER_SIZE = 8


class AttributeCache:
    """Wire bytes of a point's attributes -> its decoded (key, value) pairs. Bounded;
    thread-safe (a race decodes twice, harmlessly)."""

    def __init__(self, limit: int = _CACHE_LIMIT) -> None:
        self._items: dict[tuple[bytes, ...], AttributeItems] = {}
        self._limit = limit
        self._lock = threading.Lock()

    def of(self, raw: Sequence[bytes]) -> AttributeItems:
        """`raw`: the serialised KeyValues, in order (a view point's `attributes`)."""
        key = tuple(raw)
        found = self._items.get(key)
        if found is None:
            found = attribute_items([KeyValue.FromString(kv) for kv in key])
            with self._lock:
                if len(self._items) >= self._limit:
                    self._items.clear()
                self._items[key] = found
        return found

    def finder(self) -> Callable[[tuple[bytes, ...]], AttributeItems | None]:
        """A fast lookup of cached attributes by the tuple of their KeyValues' bytes (None
        when not cached: then ask `of`). Hot loops bind it once."""
        return self._items.get


class AttributeColumns:
    """The attributes of all the points of a metric, by the wire bytes of the metric in the
    attributes view (`otlp_view.metrics_views`): every point's KeyValues with the points'
    boundaries, so equal bytes are the same attributes point for point. Exporters send their
    series in a stable order, so a metric's column recurs request after request (and metrics
    sharing attributes share one), and its points then need no attribute work at all.

    Keys are large (every attribute of every point), so they are found by size and compared
    (cheaper than hashing them); bounded by their total size; thread-safe."""

    def __init__(self, limit_bytes: int = _COLUMNS_LIMIT_BYTES) -> None:
        self._by_size: dict[int, list[tuple[bytes, AttributeColumn]]] = {}
        self._bytes = 0
        self._limit = limit_bytes
        self._lock = threading.Lock()

    def get(self, key: bytes) -> AttributeColumn | None:
        for known, column in self._by_size.get(len(key), ()):
            if known == key:
                return column
        return None

    def put(self, key: bytes, column: AttributeColumn) -> None:
        if len(key) > self._limit:
            return
        with self._lock:
            if self._bytes + len(key) > self._limit:
                self._by_size.clear()
                self._bytes = 0
            same_size = self._by_size.setdefault(len(key), [])
            if len(same_size) >= _COLUMNS_PER_SIZE:
                self._bytes -= len(same_size.pop(0)[0])
            same_size.append((key, column))
            self._bytes += len(key)

    def clear(self) -> None:
        with self._lock:
            self._by_size.clear()
            self._bytes = 0


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
