"""A token bucket per key (PagerDuty allows about 120 events per minute per routing key).

The local PagerDuty server limits with the same bucket, so a channel configured with the
server's rate never sees a 429 from it; a real 429 is retried with backoff anyway.

`acquire` waits (through the injected sleep) until a token is free rather than failing: a
burst of alerts is delivered late, never dropped for our own limit.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from routewatch.exporters.delivery.retry import Clock, Sleep


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    def __init__(
        self,
        per_minute: float = 120.0,
        burst: float | None = None,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if per_minute <= 0:
            raise ValueError("per_minute must be positive")
        self.rate = per_minute / 60.0
        self.capacity = float(burst if burst is not None else per_minute)
        self._clock = clock
        self._sleep = sleep
        self._buckets: dict[str, _Bucket] = {}

    def _refill(self, key: str) -> _Bucket:
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(self.capacity, now)
        else:
            bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
        return bucket

    def try_acquire(self, key: str) -> float:
        """Take one token for `key` if one is free: 0.0; else the seconds until one is."""
        bucket = self._refill(key)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.rate

    async def acquire(self, key: str) -> float:
        """Take one token for `key`, waiting until it is due; returns the seconds waited.

        The token is reserved before waiting (the balance may go below zero), so callers are
        served in the order they asked, with no lock: the buckets can be shared by exporters
        on any event loop.
        """
        bucket = self._refill(key)
        bucket.tokens -= 1.0
        if bucket.tokens >= 0.0:
            return 0.0
        wait = -bucket.tokens / self.rate
        await self._sleep(wait)
        return wait
