"""The batch processor: buffer requests, send them merged by size or after a timeout.

Unlike the Go batchprocessor, a batch the next consumer refuses with a retryable error is not
dropped: it is held at the front of the buffer, new data is refused (RetryableError, so the
receiver answers retryable) and the timer retries the held batch. Backpressure from a full
exporter queue thus reaches the client through the batch processor.

Requests that come as bytes (`Encoded`) are buffered as bytes and sent as their concatenation:
serialized requests of one signal concatenate into the merged request, so a batch of them
costs no parsing or serializing here. The next consumer gets that as bytes or, if it does not
take bytes, parsed once (which is the merge). Anything else takes the message path: decode,
merge with protobuf's MergeFrom, and split over `send_batch_max_size`.
"""

from __future__ import annotations

import asyncio
import contextlib

from routewatch.collector.clock import SYSTEM_CLOCK, Clock
from routewatch.collector.component import (
    Consumer,
    CreateSettings,
    Data,
    Encoded,
    Host,
    Signal,
    deliver,
    message_of,
)
from routewatch.collector.errors import PermanentError, RetryableError
from routewatch.collector.obsreport import DropLog, count_items
from routewatch.collector.processors.batch.config import BatchConfig
from routewatch.collector.processors.batch.split import merge, split

_PREFIX = "otelcol_processor_batch_"

# What the buffer holds: messages, and requests kept as the bytes they came in.
Entry = Data | Encoded


class BatchProcessor:
    def __init__(
        self,
        settings: CreateSettings,
        config: BatchConfig,
        signal: Signal,
        next_consumer: Consumer,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._settings = settings
        self._config = config
        self._signal = signal
        self._next = next_consumer
        self.clock = clock
        self._log = settings.logger
        self._labels = {"processor": str(settings.id)}
        self._buffer: list[Entry] = []
        self._pending = 0
        self._held = False
        self._has_data = asyncio.Event()
        self._timer: asyncio.Task[None] | None = None
        self._closed = False
        self._warned = False
        self._drops = DropLog(self._log)

    @property
    def pending(self) -> int:
        """Items buffered, not yet sent."""
        return self._pending

    async def start(self, host: Host) -> None:
        if self._config.timeout > 0 and self._timer is None:
            self._timer = asyncio.create_task(self._timer_loop(), name=f"{self._settings.id}-timer")

    async def consume(self, data: Data) -> None:
        await self._accept(data, count_items(self._signal, data))

    async def consume_encoded(self, encoded: Encoded) -> None:
        if encoded.signal is not self._signal:
            # Its bytes would corrupt the concatenation of this pipeline's requests.
            raise PermanentError(
                f"processor {self._settings.id} batches {self._signal.value}, "
                f"not {encoded.signal.value}"
            )
        await self._accept(encoded, encoded.items)

    def _items(self, entry: Entry) -> int:
        return entry.items if isinstance(entry, Encoded) else count_items(self._signal, entry)

    async def _send(self, entry: Entry) -> None:
        if isinstance(entry, Encoded):
            await deliver(self._next, None, entry)
        else:
            await deliver(self._next, entry, None)

    async def _accept(self, entry: Entry, count: int) -> None:
        if self._closed:
            raise RetryableError(f"processor {self._settings.id} is shut down")
        if self._held:
            raise RetryableError(
                f"processor {self._settings.id}: the next consumer refused the last batch",
                retry_after=float(self._config.timeout) or None,
            )
        if count == 0:
            return
        if self._config.timeout <= 0:
            # As in Go: a zero timeout sends every request at once (split over the max size).
            await self._send_now(entry, count)
            return
        self._buffer.append(entry)
        self._pending += count
        self._has_data.set()
        if self._config.send_batch_size and self._pending >= self._config.send_batch_size:
            await self._flush("batch_size", full_only=True)

    async def _send_now(self, entry: Entry, count: int) -> None:
        limit = self._config.send_batch_max_size
        if limit and count > limit:
            for chunk in split(message_of(entry), self._signal, limit):
                await self._send(chunk)
        else:
            await self._send(entry)

    def _take(self) -> tuple[list[Entry], int]:
        """Remove everything buffered; return it as requests within the max size."""
        buffered, count = self._buffer, self._pending
        self._buffer, self._pending = [], 0
        limit = self._config.send_batch_max_size
        over = bool(limit) and count > limit
        if not over and all(isinstance(e, Encoded) for e in buffered):
            payload = b"".join(e.payload for e in buffered)
            return [Encoded(self._signal, payload, count)], count
        # Correctness first: a mixed buffer or one to split goes through messages (one
        # message alone is its own merge).
        merged = merge([message_of(e) for e in buffered])
        if over:
            return list(split(merged, self._signal, limit)), count
        return [merged], count

    async def _flush(self, trigger: str, full_only: bool = False) -> None:
        if not self._pending or (full_only and self._pending < self._config.send_batch_size):
            return
        batches, total = self._take()
        for i, batch in enumerate(batches):
            count = self._items(batch) if len(batches) > 1 else total
            try:
                await self._send(batch)
            except PermanentError as err:
                self._dropped(batch, err)
                continue
            except Exception as err:
                self._hold(batches[i:], err)
                return
            self._held = False
            self._record_send(trigger, count)
        if not self._buffer:
            self._has_data.clear()

    def _hold(self, batches: list[Entry], err: Exception) -> None:
        held = sum(self._items(b) for b in batches)
        self._buffer[:0] = batches
        self._pending += held
        self._held = True
        self._has_data.set()
        if not self._warned:
            self._warned = True
            self._log.warning(
                "next consumer refused a batch, holding %d item(s) and refusing new data: %s",
                held,
                err,
            )

    def _dropped(self, batch: Entry, err: Exception) -> None:
        count = self._items(batch)
        self._settings.telemetry.add(_PREFIX + "dropped_items", count, self._labels)
        self._drops.dropped(
            f"{type(err).__name__}:{err}",
            "next consumer rejected a batch permanently, %d item(s) dropped: %s",
            count,
            err,
        )

    def _record_send(self, trigger: str, count: int) -> None:
        telemetry = self._settings.telemetry
        telemetry.add(f"{_PREFIX}{trigger}_trigger_send", 1, self._labels)
        telemetry.add(_PREFIX + "batch_send_size_sum", count, self._labels)
        telemetry.add(_PREFIX + "batch_send_size_count", 1, self._labels)

    async def _timer_loop(self) -> None:
        while not self._closed:
            await self._has_data.wait()
            await self.clock.sleep(float(self._config.timeout))
            try:
                await self._flush("timeout")
            except Exception:  # the loop must outlive any bug in a consumer
                self._log.exception("batch flush failed")

    async def shutdown(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer
        if self._pending:
            self._held = False
            await self._flush("timeout")
            if self._pending:
                self._settings.telemetry.add(_PREFIX + "dropped_items", self._pending, self._labels)
                self._drops.dropped(
                    "shutdown",
                    "shutting down with %d item(s) the next consumer refused; dropped",
                    self._pending,
                )
                self._buffer, self._pending = [], 0
