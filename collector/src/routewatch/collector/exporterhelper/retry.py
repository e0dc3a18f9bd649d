"""The retry sender: exponential backoff with jitter, throttling honoured, shutdown-aware."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable

from routewatch.collector.clock import Clock
from routewatch.collector.errors import PartialSuccessError, PermanentError, RetryableError
from routewatch.collector.exporterhelper.config import RetryConfig

_log = logging.getLogger(__name__)


class RetriesExhausted(Exception):
    """`max_elapsed_time` would be passed by the next wait: the data is dropped."""


class ShutdownInterrupted(Exception):
    """Shutdown came while waiting to retry: the caller decides what to keep."""


def backoff_delays(config: RetryConfig, rand: Callable[[], float]) -> Callable[[], float]:
    """A function returning the next randomized delay, as cenkalti/backoff computes it:
    uniform in interval * (1 +- randomization_factor), interval growing by `multiplier` up to
    `max_interval`."""
    interval = float(config.initial_interval)

    def next_delay() -> float:
        nonlocal interval
        delta = config.randomization_factor * interval
        delay = interval - delta + rand() * 2 * delta
        interval = min(interval * config.multiplier, float(config.max_interval))
        return delay

    return next_delay


async def sleep_unless_stopped(clock: Clock, seconds: float, stop: asyncio.Event) -> bool:
    """Sleep on `clock`; True when `stop` was set first."""
    if stop.is_set():
        return True
    sleeper = asyncio.ensure_future(clock.sleep(seconds))
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        sleeper.cancel()
        stopper.cancel()
    return stop.is_set()


async def with_retry(
    call: Callable[[], Awaitable[None]],
    config: RetryConfig,
    clock: Clock,
    stop: asyncio.Event,
    rand: Callable[[], float] = random.random,
    logger: logging.Logger = _log,
) -> None:
    """Run `call` until it succeeds, fails permanently, or retries run out."""
    if not config.enabled:
        await call()
        return
    started = clock.now()
    next_delay = backoff_delays(config, rand)
    while True:
        try:
            await call()
            return
        except (PermanentError, PartialSuccessError):
            # Retrying a partial success would send the accepted part again.
            raise
        except Exception as err:
            delay = next_delay()
            if isinstance(err, RetryableError) and err.retry_after:
                delay = max(delay, err.retry_after)
            elapsed = clock.now() - started
            if config.max_elapsed_time > 0 and elapsed + delay > config.max_elapsed_time:
                raise RetriesExhausted(f"no more retries left: {_describe(err)}") from err
            logger.debug("export failed, retrying in %.3fs: %s", delay, _describe(err))
            if await sleep_unless_stopped(clock, delay, stop):
                raise ShutdownInterrupted(f"interrupted due to shutdown: {_describe(err)}") from err


def _describe(err: BaseException) -> str:
    text = str(err)
    return f"{type(err).__name__}: {text}" if text else type(err).__name__
