"""The memory limiter: refuse data (retryable) while memory is above the soft limit.

Memory is the process RSS plus the bytes held in in-memory exporter queues (which the host
reports), measured every `check_interval`. Refusing is the whole mechanism: the receiver turns
it into UNAVAILABLE / 503 and the client retries later, as with the Go collector. It reads
nothing of the data, so it passes requests on in the form they came (bytes or message).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import psutil

from routewatch.collector.clock import SYSTEM_CLOCK, Clock
from routewatch.collector.component import (
    Consumer,
    CreateSettings,
    Data,
    Encoded,
    Forwarder,
    Host,
    deliver,
    needs_message,
)
from routewatch.collector.errors import RetryableError
from routewatch.collector.obsreport import ITEM_NAME, count_items, signal_of
from routewatch.collector.processors.memory_limiter.config import MemoryLimiterConfig

_PROCESS = psutil.Process()


def process_rss() -> int:
    return int(_PROCESS.memory_info().rss)


class MemoryLimiter(Forwarder):
    def __init__(
        self,
        settings: CreateSettings,
        config: MemoryLimiterConfig,
        next_consumer: Consumer,
        clock: Clock = SYSTEM_CLOCK,
        measure_rss: Callable[[], int] = process_rss,
    ) -> None:
        self._settings = settings
        self._config = config
        self._next = next_consumer
        self.clock = clock
        self._measure_rss = measure_rss
        self._log = settings.logger
        self.hard_limit, self.soft_limit = config.limits_bytes(psutil.virtual_memory().total)
        self._queued_bytes: Callable[[], int] = lambda: 0
        self.refusing = False
        self.last_usage = 0
        self._task: asyncio.Task[None] | None = None
        self._labels = {"processor": str(settings.id)}

    async def start(self, host: Host) -> None:
        queued = getattr(host, "queued_bytes", None)
        if callable(queued):
            self._queued_bytes = queued
        self.check()
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name=f"{self._settings.id}-check")

    def check(self) -> None:
        """Measure now and update the refusing state."""
        usage = self._measure_rss() + self._queued_bytes()
        self.last_usage = usage
        refusing = usage >= self.soft_limit
        if refusing != self.refusing:
            mib = usage / (1024 * 1024)
            if refusing:
                self._log.warning(
                    "memory usage %.1f MiB is above the soft limit %.1f MiB: refusing data",
                    mib,
                    self.soft_limit / (1024 * 1024),
                )
            else:
                self._log.info("memory usage %.1f MiB is back below the soft limit", mib)
        self.refusing = refusing

    async def _loop(self) -> None:
        while True:
            await self.clock.sleep(float(self._config.check_interval))
            try:
                self.check()
            except Exception:  # a failed measurement keeps the last state
                self._log.exception("memory check failed")

    @property
    def needs_message(self) -> bool:
        return needs_message(self._next)

    async def forward(self, data: Data | None, encoded: Encoded | None) -> None:
        """Pass both forms on (see `component.deliver`), or refuse."""
        if self.refusing:
            if encoded is not None:
                signal, count = encoded.signal, encoded.items
            else:
                assert data is not None
                signal = signal_of(data)
                count = count_items(signal, data)
            self._settings.telemetry.add(
                "otelcol_processor_refused_" + ITEM_NAME[signal], count, self._labels
            )
            raise RetryableError(
                "data refused due to high memory usage",
                retry_after=float(self._config.check_interval),
            )
        await deliver(self._next, data, encoded)

    async def shutdown(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
