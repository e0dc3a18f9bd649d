"""Bounded sending queues: in memory, or persistent in a storage client (SQLite via
`file_storage`).

Capacity counts requests, as `sending_queue.queue_size` does in the Go collector. `put` either
refuses at once (`QueueFull`) or waits for room. `get` returns None once the queue is closed and
empty. A persistent item is on disk before `put` returns and leaves it only through `done`
(delivered or dropped for good); an item that is not `done` is replayed on the next start.

Requests that came as bytes (`Encoded`) stay bytes: in memory as they are, on disk as their
payload, which is what a message is stored as too (a serialized export request), so queues
written before and after read the same.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass
from typing import Protocol

from google.protobuf.message import DecodeError

from routewatch.collector.component import REQUEST_TYPES, Data, Encoded, Signal, wire_bytes
from routewatch.collector.obsreport import count_items
from routewatch.collector.storage import StorageClient

_log = logging.getLogger(__name__)
KEY_PREFIX = "q/"


class QueueFull(Exception):
    pass


@dataclass
class Item:
    data: Data | Encoded
    count: int
    size: int = 0
    key: str = ""


class SendingQueue(Protocol):
    capacity: int

    def size(self) -> int: ...

    def queued_bytes(self) -> int: ...

    async def put(self, data: Data | Encoded, count: int, block: bool) -> None: ...

    async def get(self) -> Item | None: ...

    async def done(self, item: Item) -> None: ...

    def close(self) -> None: ...

    def drain_remaining(self) -> list[Item]: ...


class _Slots:
    """Capacity accounting with waiters for room and for items, shared by both queues."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.used = 0  # queued + in flight
        self.closed = False
        self._room = asyncio.Event()
        self._room.set()
        self._items = asyncio.Event()

    async def reserve(self, block: bool) -> None:
        while self.used >= self.capacity:
            if not block or self.closed:
                raise QueueFull(f"sending queue is full ({self.capacity} requests)")
            self._room.clear()
            await self._room.wait()
        self.used += 1

    def release(self) -> None:
        self.used -= 1
        self._room.set()

    def signal_item(self) -> None:
        self._items.set()

    async def wait_item(self) -> None:
        self._items.clear()
        await self._items.wait()

    def close(self) -> None:
        self.closed = True
        self._items.set()
        self._room.set()


# Measuring a request's size costs as much as serializing it, so the queue measures one put
# in this many and estimates the others from the measured bytes per item.
SIZE_SAMPLE_EVERY = 32


class MemoryQueue:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._slots = _Slots(capacity)
        self._items: deque[Item] = deque()
        self._bytes = 0
        self._puts = 0
        self._bytes_per_item = 0.0

    def _estimate_size(self, data: Data | Encoded, count: int) -> int:
        if isinstance(data, Encoded):
            return len(data.payload)
        self._puts += 1
        if self._bytes_per_item and count and self._puts % SIZE_SAMPLE_EVERY:
            return int(count * self._bytes_per_item)
        size = data.ByteSize()
        if count:
            measured = size / count
            self._bytes_per_item = (
                0.8 * self._bytes_per_item + 0.2 * measured if self._bytes_per_item else measured
            )
        return size

    def size(self) -> int:
        return self._slots.used

    def queued_bytes(self) -> int:
        return self._bytes

    async def put(self, data: Data | Encoded, count: int, block: bool) -> None:
        await self._slots.reserve(block)
        item = Item(data, count, self._estimate_size(data, count))
        self._bytes += item.size
        self._items.append(item)
        self._slots.signal_item()

    async def get(self) -> Item | None:
        while not self._items:
            if self._slots.closed:
                return None
            await self._slots.wait_item()
        item = self._items.popleft()
        if self._items:
            self._slots.signal_item()
        return item

    async def done(self, item: Item) -> None:
        self._bytes -= item.size
        self._slots.release()

    def close(self) -> None:
        self._slots.close()

    def drain_remaining(self) -> list[Item]:
        items = list(self._items)
        self._items.clear()
        for item in items:
            self._bytes -= item.size
            self._slots.release()
        return items


class PersistentQueue:
    """Items keyed `q/<sequence>` in a storage client; the order survives restarts."""

    def __init__(self, client: StorageClient, signal: Signal, capacity: int) -> None:
        self.capacity = capacity
        self._client = client
        self._type = REQUEST_TYPES[signal]
        self._signal = signal
        self._pending: deque[str] = deque()
        # Item counts of what this run stored; what a previous run left is parsed to count.
        self._counts: dict[str, int] = {}
        self._slots = _Slots(capacity)
        self._seq = 0

    @classmethod
    async def open(cls, client: StorageClient, signal: Signal, capacity: int) -> PersistentQueue:
        """Open the queue, taking back what a previous run left on disk (even past capacity:
        it was acknowledged, so it is never thrown away)."""
        queue = cls(client, signal, capacity)
        keys = await asyncio.to_thread(client.keys, KEY_PREFIX)
        queue._pending.extend(keys)
        queue._slots.used = len(keys)
        if keys:
            queue._seq = int(keys[-1][len(KEY_PREFIX) :]) + 1
            _log.info("replaying %d request(s) left in the persistent queue", len(keys))
            queue._slots.signal_item()
        return queue

    def size(self) -> int:
        return self._slots.used

    def queued_bytes(self) -> int:
        return 0  # on disk, not in memory

    async def put(self, data: Data | Encoded, count: int, block: bool) -> None:
        await self._slots.reserve(block)
        key = f"{KEY_PREFIX}{self._seq:020d}"
        self._seq += 1
        raw = wire_bytes(data)
        try:
            await asyncio.to_thread(self._client.set, key, raw)
        except BaseException:
            self._slots.release()
            raise
        self._counts[key] = count
        self._pending.append(key)
        self._slots.signal_item()

    async def get(self) -> Item | None:
        while True:
            while not self._pending:
                if self._slots.closed:
                    return None
                await self._slots.wait_item()
            key = self._pending.popleft()
            if self._pending:
                self._slots.signal_item()
            raw = await asyncio.to_thread(self._client.get, key)
            count = self._counts.get(key)
            if raw is not None and count is not None:
                # Stored by this run from a request parsed on receipt: no need to parse again.
                return Item(Encoded(self._signal, raw, count), count, key=key)
            data = self._type()
            try:
                if raw is None:
                    raise DecodeError("missing")
                data.ParseFromString(raw)
            except DecodeError:
                _log.error("dropping unreadable item %s of the persistent queue", key)
                await self.done(Item(data, 0, key=key))
                continue
            return Item(data, count_items(self._signal, data), key=key)

    async def done(self, item: Item) -> None:
        await asyncio.to_thread(self._client.delete, item.key)
        self._counts.pop(item.key, None)
        self._slots.release()

    def close(self) -> None:
        self._slots.close()

    def drain_remaining(self) -> list[Item]:
        # Stays on disk for the next start.
        return []
