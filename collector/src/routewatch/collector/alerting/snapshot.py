"""Reading saved entries back: one damaged entry costs that entry, never the start."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from routewatch.collector.storage import StorageClient

T = TypeVar("T")
# What decoding a damaged entry raises (orjson.JSONDecodeError is a ValueError).
DAMAGED = (ValueError, KeyError, TypeError, AttributeError)


def stored_items(storage: StorageClient, prefix: str = "") -> list[tuple[str, bytes]]:
    items = []
    for key in storage.keys(prefix):
        data = storage.get(key)
        if data is not None:
            items.append((key, data))
    return items


def decoded(
    items: Iterable[tuple[str, bytes]],
    prefix: str,
    decode: Callable[[bytes], T],
    damaged: list[str],
) -> Iterator[T]:
    """`decode` of every item under `prefix`; keys of those that fail go to `damaged`."""
    for key, data in items:
        if not key.startswith(prefix):
            continue
        try:
            yield decode(data)
        except DAMAGED:
            damaged.append(key)
