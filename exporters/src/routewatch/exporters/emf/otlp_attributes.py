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
_CACHE_LIMIT = 65_536


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
