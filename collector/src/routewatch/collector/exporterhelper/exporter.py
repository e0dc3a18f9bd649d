"""`new_exporter`: wrap a push function in the exporter helper.

STAND-IN: this version only applies the timeout and calls push directly; the queue, retry and
persistent storage land with the collector core. The signature is the contract.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from routewatch.collector.component import CreateSettings, Data, Host, Signal
from routewatch.collector.exporterhelper.config import ExporterHelperConfig

PushFunc = Callable[[Data], Awaitable[None]]
LifecycleFunc = Callable[[], Awaitable[None]]
StartFunc = Callable[[Host], Awaitable[None]]


class Exporter:
    """A Component and Consumer built from a push function."""

    def __init__(
        self,
        settings: CreateSettings,
        config: ExporterHelperConfig,
        signal: Signal,
        push: PushFunc,
        start: StartFunc | None = None,
        shutdown: LifecycleFunc | None = None,
    ) -> None:
        self.settings = settings
        self.config = config
        self.signal = signal
        self._push = push
        self._start = start
        self._shutdown = shutdown
        self._stopped = False

    async def start(self, host: Host) -> None:
        if self._start is not None:
            await self._start(host)

    async def consume(self, data: Data) -> None:
        timeout = float(self.config.timeout) or None
        await asyncio.wait_for(self._push(data), timeout)

    async def shutdown(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        if self._shutdown is not None:
            await self._shutdown()


def new_exporter(
    settings: CreateSettings,
    config: ExporterHelperConfig,
    signal: Signal,
    push: PushFunc,
    *,
    start: StartFunc | None = None,
    shutdown: LifecycleFunc | None = None,
) -> Exporter:
    """Build an exporter: `push(data)` sends one request and raises PermanentError or a
    retryable error; the helper adds queueing, retries, timeout and self-telemetry."""
    return Exporter(settings, config, signal, push, start, shutdown)
