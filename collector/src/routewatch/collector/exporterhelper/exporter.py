"""`new_exporter`: wrap a push function in the exporter helper.

The chain, as the Go collector's exporterhelper: queue -> self-telemetry -> retry -> timeout ->
push. `consume()` puts the request in the sending queue (or refuses: RetryableError when full
and `block_on_overflow` is false, which reaches the receiver as backpressure); `num_consumers`
workers take requests out and send each through retry and timeout. Without a queue the chain
runs in the caller and its error is the caller's.

Requests may come as bytes (`Encoded`): they are queued as bytes (a persistent queue stores
them as they are). A push function that declared `accepts_encoded` gets them so; any other gets
the message, parsed in the sending worker rather than in the receiver's request path.

Shutdown order matters: refuse new data, let the workers drain the queue (retrying as usual)
for up to `settings.shutdown_timeout`, then interrupt backoff waits and stop. What is still
queued then is dropped and counted (memory) or left on disk for the next start (persistent).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Any

from routewatch.collector.clock import SYSTEM_CLOCK, Clock
from routewatch.collector.component import (
    REQUEST_TYPES,
    ComponentID,
    CreateSettings,
    Data,
    Encoded,
    Host,
    Signal,
)
from routewatch.collector.errors import PartialSuccessError, PermanentError, RetryableError
from routewatch.collector.exporterhelper.config import ExporterHelperConfig
from routewatch.collector.exporterhelper.health import ExporterHealth, OutcomeWindow
from routewatch.collector.exporterhelper.queue import (
    Item,
    MemoryQueue,
    PersistentQueue,
    QueueFull,
    SendingQueue,
)
from routewatch.collector.exporterhelper.retry import (
    RetriesExhausted,
    ShutdownInterrupted,
    with_retry,
)
from routewatch.collector.obsreport import DropLog, count_items, exporter_metric
from routewatch.collector.storage import StorageClient

PushFunc = Callable[[Data], Awaitable[None]]
# The push function of an exporter created with `accepts_encoded=True`.
EncodedPushFunc = Callable[[Data | Encoded], Awaitable[None]]
LifecycleFunc = Callable[[], Awaitable[None]]
StartFunc = Callable[[Host], Awaitable[None]]


class Outcome(Enum):
    SENT = "sent"
    DROPPED = "dropped"
    KEPT = "kept"  # interrupted by shutdown; a persistent queue keeps it


class Exporter:
    """A Component and Consumer built from a push function."""

    def __init__(
        self,
        settings: CreateSettings,
        config: ExporterHelperConfig,
        signal: Signal,
        push: PushFunc | EncodedPushFunc,
        start: StartFunc | None = None,
        shutdown: LifecycleFunc | None = None,
        clock: Clock = SYSTEM_CLOCK,
        rand: Callable[[], float] = random.random,
        accepts_encoded: bool = False,
    ) -> None:
        self.settings = settings
        self.config = config
        self.signal = signal
        self.clock = clock
        self._rand = rand
        self._push: Callable[[Any], Awaitable[None]] = push
        self._accepts_encoded = accepts_encoded
        self._start = start
        self._shutdown = shutdown
        self._log = settings.logger
        self._labels = {"exporter": str(settings.id)}
        self._queue_labels = {**self._labels, "data_type": signal.value}
        self._queue: SendingQueue | None = None
        self._workers: list[asyncio.Task[None]] = []
        self._stop = asyncio.Event()
        self._started = False
        self._closing = False
        self._stopped = False
        self._drops = DropLog(self._log)
        self._warned_full = False
        self.outcomes = OutcomeWindow(clock)
        self._storage_client: StorageClient | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self, host: Host) -> None:
        if self._start is not None:
            await self._start(host)
        queue_cfg = self.config.sending_queue
        if queue_cfg.enabled:
            if queue_cfg.storage:
                client = self._storage(host, queue_cfg.storage)
                self._queue = await PersistentQueue.open(client, self.signal, queue_cfg.queue_size)
            else:
                self._queue = MemoryQueue(queue_cfg.queue_size)
            queue = self._queue
            self.settings.telemetry.gauge_func(
                "otelcol_exporter_queue_size", lambda: float(queue.size()), self._queue_labels
            )
            self.settings.telemetry.set(
                "otelcol_exporter_queue_capacity", float(queue.capacity), self._queue_labels
            )
            self._workers = [
                asyncio.create_task(self._work(), name=f"{self.settings.id}-sender-{i}")
                for i in range(queue_cfg.num_consumers)
            ]
        self._started = True

    def _storage(self, host: Host, storage: str) -> StorageClient:
        ext = host.get_extension(ComponentID.parse(storage))
        client_of = getattr(ext, "client", None)
        if ext is None or client_of is None:
            raise ValueError(
                f"sending_queue::storage: storage extension {storage!r} is not configured "
                "in service::extensions"
            )
        client: StorageClient = client_of(str(self.settings.id), self.signal.value)
        self._storage_client = client
        return client

    async def shutdown(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._closing = True
        try:
            if self._queue is not None:
                await self._drain(self._queue)
            else:
                # Sends run in their callers: interrupt their backoff, the callers get a
                # retryable error and keep the data.
                self._stop.set()
        finally:
            if self._storage_client is not None:
                self._storage_client.close()
            if self._shutdown is not None:
                await self._shutdown()

    async def _drain(self, queue: SendingQueue) -> None:
        queue.close()
        workers = self._workers
        if workers:
            _, pending = await asyncio.wait(workers, timeout=self.settings.shutdown_timeout)
            if pending:
                # Time is up: stop backoff waits; give in-flight pushes a moment, then cancel.
                self._stop.set()
                grace = min(1.0, self.settings.shutdown_timeout)
                _, pending = await asyncio.wait(pending, timeout=grace)
                for task in pending:
                    task.cancel()
                await asyncio.gather(*pending, return_exceptions=True)
        left = queue.drain_remaining()
        if left:
            self._drop(left, "the collector shut down before they were sent")
        if isinstance(queue, PersistentQueue) and queue.size():
            self._log.warning(
                "%d request(s) stay in the persistent queue until the next start", queue.size()
            )

    # -- data path ---------------------------------------------------------------------------

    async def consume(self, data: Data) -> None:
        if not isinstance(data, REQUEST_TYPES[self.signal]):
            raise PermanentError(
                f"exporter {self.settings.id} takes {self.signal.value}, not {type(data).__name__}"
            )
        await self._enqueue(data, count_items(self.signal, data))

    async def consume_encoded(self, encoded: Encoded) -> None:
        self._check_signal(encoded)
        await self._enqueue(encoded, encoded.items)

    async def forward(self, data: Data | None, encoded: Encoded | None) -> None:
        """Given both forms (see `component.deliver`): the one the push function takes, so
        that a message a receiver already parsed is not parsed again."""
        if encoded is None:
            assert data is not None
            await self.consume(data)
        elif self._accepts_encoded or data is None:
            await self.consume_encoded(encoded)
        else:
            self._check_signal(encoded)
            await self._enqueue(data, encoded.items)

    def _check_signal(self, encoded: Encoded) -> None:
        if encoded.signal is not self.signal:
            raise PermanentError(
                f"exporter {self.settings.id} takes {self.signal.value}, not {encoded.signal.value}"
            )

    async def _enqueue(self, data: Data | Encoded, count: int) -> None:
        if self._closing or not self._started:
            self._count("enqueue_failed", count)
            raise RetryableError(f"exporter {self.settings.id} is not running")
        queue = self._queue
        if queue is None:
            _, err = await self._send(data, count)
            if err is not None:
                raise err
            return
        try:
            await queue.put(data, count, self.config.sending_queue.block_on_overflow)
        except QueueFull as err:
            self._count("enqueue_failed", count)
            if not self._warned_full:
                self._warned_full = True
                self._log.warning("sending queue is full: refusing data (retryable): %s", err)
            raise RetryableError(f"{self.settings.id}: {err}") from err

    async def _work(self) -> None:
        queue = self._queue
        assert queue is not None
        while True:
            item = await queue.get()
            if item is None:
                return
            try:
                outcome, _ = await self._send(item.data, item.count)
            except asyncio.CancelledError:
                # Cancelled mid-push at the end of shutdown: a persistent item stays on disk.
                if isinstance(queue, MemoryQueue):
                    self._drop([item], "the collector shut down while they were being sent")
                    await queue.done(item)
                raise
            if outcome is Outcome.KEPT and isinstance(queue, PersistentQueue):
                continue  # replayed on the next start
            if outcome is Outcome.KEPT:
                self._drop([item], "the collector shut down while they were being retried")
            try:
                await queue.done(item)
            except Exception:  # e.g. the disk is full: the item is sent again after restart
                self._log.exception("could not remove a sent item from the queue")

    async def _send(
        self, request: Data | Encoded, count: int
    ) -> tuple[Outcome, BaseException | None]:
        """self-telemetry -> retry -> timeout -> push; never raises but for cancellation."""
        try:
            data = self._pushable(request)
            await with_retry(
                lambda: self._timed_push(data),
                self.config.retry_on_failure,
                self.clock,
                self._stop,
                self._rand,
                self._log,
            )
        except ShutdownInterrupted as err:
            return Outcome.KEPT, RetryableError(str(err))
        except PartialSuccessError as err:
            rejected = min(err.rejected, count)
            self._count("sent", count - rejected)
            self._count("send_failed", rejected)
            self._drops.dropped(
                f"partial:{err.message}", "partial success: %d item(s) rejected: %s", rejected, err
            )
            return Outcome.SENT, err
        except Exception as err:
            self._count("send_failed", count)
            self._log_once(err, count)
            if isinstance(err, RetriesExhausted) and isinstance(err.__cause__, RetryableError):
                return Outcome.DROPPED, err.__cause__
            return Outcome.DROPPED, err
        self._count("sent", count)
        return Outcome.SENT, None

    def _pushable(self, request: Data | Encoded) -> Data | Encoded:
        """`request` in the form the push function takes."""
        if self._accepts_encoded or not isinstance(request, Encoded):
            return request
        try:
            return request.decode()
        except Exception as err:  # stored bytes that do not parse will never do
            raise PermanentError(f"cannot unmarshal a queued request: {err}") from err

    async def _timed_push(self, data: Data | Encoded) -> None:
        """One attempt; its outcome feeds readiness, so a failing backend shows at once rather
        than when retries run out."""
        timeout = float(self.config.timeout)
        try:
            if not timeout:
                await self._push(data)
            else:
                try:
                    async with asyncio.timeout(timeout):
                        await self._push(data)
                except TimeoutError as err:
                    raise RetryableError(f"request timed out after {timeout:g}s") from err
        except Exception:
            self.outcomes.record(False)
            raise
        self.outcomes.record(True)

    # -- telemetry ---------------------------------------------------------------------------

    def _count(self, what: str, count: int) -> None:
        self.settings.telemetry.add(exporter_metric(what, self.signal), count, self._labels)

    def _log_once(self, err: BaseException, count: int) -> None:
        kind = "permanent error" if isinstance(err, PermanentError) else "retries exhausted"
        self._drops.dropped(
            f"{type(err).__name__}:{err}",
            "exporting failed, dropping %d item(s) (%s): %s",
            count,
            kind,
            err,
        )

    def _drop(self, items: list[Item], why: str) -> None:
        count = sum(item.count for item in items)
        self._count("send_failed", count)
        self._drops.dropped(why, "dropped %d request(s), %d item(s): %s", len(items), count, why)

    # -- introspection (health_check, memory_limiter) ----------------------------------------

    def queued_bytes(self) -> int:
        return self._queue.queued_bytes() if self._queue is not None else 0

    def health(self, window: float | None = None) -> ExporterHealth:
        """Sends and failures over the last `window` seconds, and the queue's fill."""
        ok, failed = self.outcomes.counts(window)
        queue = self._queue
        return ExporterHealth(
            exporter=str(self.settings.id),
            signal=self.signal.value,
            sent=ok,
            failed=failed,
            queue_size=queue.size() if queue else 0,
            queue_capacity=queue.capacity if queue else 0,
        )


def new_exporter(
    settings: CreateSettings,
    config: ExporterHelperConfig,
    signal: Signal,
    push: PushFunc | EncodedPushFunc,
    *,
    start: StartFunc | None = None,
    shutdown: LifecycleFunc | None = None,
    clock: Clock | None = None,
    rand: Callable[[], float] | None = None,
    accepts_encoded: bool = False,
) -> Exporter:
    """Build an exporter: `push(data)` sends one request and raises PermanentError or a
    retryable error; the helper adds queueing, retries, timeout and self-telemetry.

    With `accepts_encoded=True`, `push` gets requests that came as bytes as `Encoded` (an
    OTLP exporter sends `encoded.payload` as is) and the others as messages; otherwise always
    messages. `clock` and `rand` are for tests of the backoff (defaults: the system clock,
    random).
    """
    return Exporter(
        settings,
        config,
        signal,
        push,
        start,
        shutdown,
        clock or SYSTEM_CLOCK,
        rand or random.random,
        accepts_encoded,
    )
