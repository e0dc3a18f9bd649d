"""Retry one notification with exponential backoff, honouring the peer's `Retry-After`.

The channels classify each failure as retryable (429, 5xx, throttling, network) or not (400)
and raise `DeliveryError`; `call_with_retry` backs off between attempts, as the Go
exporterhelper's retry sender does, but per notification so that one bad alert does not hold
back or repeat the others in its batch. Time is injected: `clock` (monotonic seconds) and
`sleep` (awaitable), so tests run on a fake clock.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")
Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

REDACTED = "<redacted>"


def redact(text: str, *secrets: str) -> str:
    """`text` with every secret replaced, for errors and logs."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


class DeliveryError(Exception):
    """A failed attempt; `retryable` says whether trying again may help."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        retry_after: float | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after
        self.status = status
        # Set by call_with_retry: how many attempts were made in all.
        self.attempts = 1


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with the Go collector's `retry_on_failure` meaning and defaults."""

    enabled: bool = True
    initial_interval: float = 5.0
    multiplier: float = 1.5
    max_interval: float = 30.0
    # Give up once the next wait would end later than this after the first attempt; 0 = never.
    max_elapsed_time: float = 300.0
    randomization_factor: float = 0.5

    def delay(self, retry: int, rand: float) -> float:
        """Wait before retry number `retry` (1-based); `rand` uniform in [0, 1)."""
        base = min(self.initial_interval * self.multiplier ** (retry - 1), self.max_interval)
        spread = self.randomization_factor * base
        return max(0.0, base - spread + 2 * spread * rand)


async def call_with_retry(
    attempt: Callable[[], Awaitable[T]],
    backoff: Backoff,
    *,
    clock: Clock = time.monotonic,
    sleep: Sleep = asyncio.sleep,
    rand: Callable[[], float] = random.random,
) -> tuple[T, int]:
    """Run `attempt` until it succeeds; returns (its result, attempts made).

    Raises the last DeliveryError (with `attempts` set) when it is not retryable, when retries
    are disabled, or when the next wait would pass `max_elapsed_time`.
    """
    started = clock()
    attempts = 0
    while True:
        attempts += 1
        try:
            return await attempt(), attempts
        except DeliveryError as err:
            err.attempts = attempts
            if not err.retryable or not backoff.enabled:
                raise
            wait = backoff.delay(attempts, rand())
            if err.retry_after is not None:
                # The peer said when: wait at least that long (as exporterhelper's throttle).
                wait = max(wait, err.retry_after)
            elapsed = clock() - started
            if backoff.max_elapsed_time and elapsed + wait > backoff.max_elapsed_time:
                raise
            await sleep(wait)
