"""Time as a dependency: the real clock and a fake one that tests advance by hand.

Every timer in the collector (batch timeout, retry backoff, memory checks, health windows) reads
`now()` and waits with `sleep()` on an injected `Clock`, so that tests are exact and fast.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Monotonic seconds."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


SYSTEM_CLOCK = SystemClock()


class FakeClock:
    """A clock that only moves when told to.

    `auto_advance=True` makes every `sleep(d)` move time forward by `d` and return at once (for
    retry loops); otherwise sleepers wait until `advance()` passes their deadline.
    """

    def __init__(self, start: float = 1000.0, auto_advance: bool = False) -> None:
        self._now = start
        self.auto_advance = auto_advance
        self.sleeps: list[float] = []
        self._waiters: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self._changed: asyncio.Event | None = None

    def now(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        seconds = max(0.0, seconds)
        self.sleeps.append(seconds)
        if self.auto_advance:
            self._now += seconds
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (self._now + seconds, next(self._seq), fut))
        self._notify()
        await fut

    @property
    def sleepers(self) -> int:
        return sum(1 for _, _, f in self._waiters if not f.done())

    async def wait_for_sleepers(self, count: int = 1) -> None:
        """Yield to the loop until at least `count` tasks sleep on this clock."""
        while self.sleepers < count:
            if self._changed is None:
                self._changed = asyncio.Event()
            self._changed.clear()
            await self._changed.wait()

    async def advance(self, seconds: float) -> None:
        """Move time forward, wake every sleeper whose deadline passed, let them run."""
        self._now += seconds
        while self._waiters and self._waiters[0][0] <= self._now:
            _, _, fut = heapq.heappop(self._waiters)
            if not fut.done():
                fut.set_result(None)
        for _ in range(5):
            await asyncio.sleep(0)

    def _notify(self) -> None:
        if self._changed is not None:
            self._changed.set()
