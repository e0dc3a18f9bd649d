"""Run a collector until SIGTERM or SIGINT, then stop it within a bounded time."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal

from routewatch.collector.config.model import Config
from routewatch.collector.service.service import Service

_log = logging.getLogger("routewatch.service")


async def run(config: Config, shutdown_timeout: float) -> int:
    """Start, wait for a signal, shut down. 0 on a clean stop, 1 when start failed."""
    service = Service(config, shutdown_timeout=shutdown_timeout)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await service.start()
    except Exception as err:
        _log.error("%s", err)
        return 1
    # What exists once started (modules, descriptors, the pipeline graph) lives as long as
    # the process: keep it out of the cyclic collector, so that full collections, which a busy
    # exporter triggers, scan only the data in flight.
    gc.freeze()
    await stop.wait()
    _log.info("signal received, shutting down (drain up to %gs)", shutdown_timeout)
    # A second signal during shutdown is ignored: the drain is already bounded.
    try:
        # Backstop above the per-exporter drain bound, so a stuck component cannot hang us.
        await asyncio.wait_for(service.shutdown(), timeout=shutdown_timeout * 3 + 5)
    except TimeoutError:
        _log.error("shutdown did not finish in time; exiting anyway")
        return 1
    _log.info("stopped")
    return 0
