"""A bounded, thread-safe buffer of log events per (group, stream), flushed on a timer,
when it holds a full batch, and on shutdown.

Memory is bounded by `max_buffered_bytes`: `put` of events that do not fit raises
`BufferFullError` (retryable: the caller's queue or retry keeps them) and takes none of them.
A batch that cannot be delivered after the client's retries stays at the head of its stream's
buffer and is retried on the next flush; only permanent errors (and events too large to ever
send) drop events, each counted and logged.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence

from routewatch.exporters.cloudwatch_logs.batch import (
    EVENT_OVERHEAD,
    MAX_BATCH_BYTES,
    LogEvent,
    plan_batches,
)
from routewatch.exporters.cloudwatch_logs.client import CountFunc, DeliveryError, LogsClient

_LOGGER = logging.getLogger("routewatch.exporters.cloudwatch_logs")

DROPPED_EVENTS = "dropped_log_events"
DEFAULT_MAX_BUFFERED_BYTES = 64 * 1024 * 1024
DEFAULT_FLUSH_INTERVAL = 5.0


class BufferFullError(Exception):
    """Retryable: the buffer cannot take these events now."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


StreamKey = tuple[str, str]


class LogBuffer:
    def __init__(
        self,
        client: LogsClient,
        *,
        max_buffered_bytes: int = DEFAULT_MAX_BUFFERED_BYTES,
        flush_interval: float = DEFAULT_FLUSH_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
        count: CountFunc | None = None,
        logger: logging.Logger = _LOGGER,
    ) -> None:
        self._client = client
        self._max_bytes = max_buffered_bytes
        self._interval = flush_interval
        self._clock = clock
        self._count = count
        self._logger = logger
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._pending: dict[StreamKey, deque[LogEvent]] = {}
        self._bytes = 0
        self._last_flush = clock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def buffered_bytes(self) -> int:
        with self._lock:
            return self._bytes

    def put(self, group: str, stream: str, events: Sequence[LogEvent]) -> None:
        """Take all of `events` or none (BufferFullError)."""
        self.put_many({(group, stream): events})

    def put_many(self, streams: Mapping[StreamKey, Sequence[LogEvent]]) -> None:
        """Take the events of every stream, or none of them (BufferFullError)."""
        size = sum(len(m) + EVENT_OVERHEAD for events in streams.values() for _, m in events)
        with self._lock:
            if self._bytes + size > self._max_bytes:
                raise BufferFullError(
                    f"CloudWatch Logs buffer full ({self._bytes} of {self._max_bytes} bytes)",
                    retry_after=self._interval,
                )
            for key, events in streams.items():
                self._pending.setdefault(key, deque()).extend(events)
            self._bytes += size
            full = self._bytes >= MAX_BATCH_BYTES
        if full and self._thread is not None:
            self._wake.set()

    def maybe_flush(self) -> None:
        """Flush when the interval has passed or a full batch is waiting (the timer calls it)."""
        with self._lock:
            due = (
                self._clock() - self._last_flush >= self._interval or self._bytes >= MAX_BATCH_BYTES
            )
        if due:
            self.flush()

    def flush(self) -> None:
        """Send everything buffered. Raises DeliveryError (retryable) if some of it is still
        buffered because delivery failed."""
        with self._flush_lock:
            with self._lock:
                pending, self._pending = self._pending, {}
                self._last_flush = self._clock()
            failure: DeliveryError | None = None
            for (group, stream), events in pending.items():
                batches, oversize = plan_batches(events)
                if oversize:
                    self._drop(oversize, "event_too_large", group, stream)
                for i, batch in enumerate(batches):
                    try:
                        self._client.put_batch(group, stream, batch)
                    except DeliveryError as err:
                        if not err.retryable:
                            self._drop(batch, "permanent_error", group, stream, err)
                            continue
                        rest = [e for b in batches[i:] for e in b]
                        self._requeue(group, stream, rest)
                        failure = err
                        break
                    self._release(batch)
            if failure is not None:
                raise failure

    def _requeue(self, group: str, stream: str, events: list[LogEvent]) -> None:
        with self._lock:
            queue = self._pending.setdefault((group, stream), deque())
            queue.extendleft(reversed(events))

    def _release(self, events: Sequence[LogEvent]) -> None:
        size = sum(len(m) + EVENT_OVERHEAD for _, m in events)
        with self._lock:
            self._bytes -= size

    def _drop(
        self,
        events: Sequence[LogEvent],
        reason: str,
        group: str,
        stream: str,
        err: Exception | None = None,
    ) -> None:
        self._release(events)
        self._logger.error(
            "dropping %d log event(s) for %s/%s: %s%s",
            len(events),
            group,
            stream,
            reason,
            f": {err}" if err else "",
        )
        if self._count is not None:
            try:
                self._count(DROPPED_EVENTS, reason, len(events))
            except Exception:
                self._logger.debug("count callback failed", exc_info=True)

    # -- the timer ----------------------------------------------------------------------------

    def start(self) -> None:
        """Flush from a daemon thread every `flush_interval` (and when a batch is full)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="cloudwatch-logs-flush", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._interval)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.maybe_flush()
            except DeliveryError as err:
                self._logger.warning("CloudWatch Logs flush failed, will retry: %s", err)
            except Exception:  # the timer must survive anything
                self._logger.exception("CloudWatch Logs flush failed")

    def shutdown(self) -> None:
        """Stop the timer and flush what is left; what still cannot be delivered is counted
        and logged as dropped. Safe twice and without start."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            self._wake.set()
            thread.join()
        try:
            self.flush()
        except DeliveryError as err:
            with self._lock:
                pending, self._pending = self._pending, {}
            for (group, stream), events in pending.items():
                self._drop(list(events), "shutdown", group, stream, err)
