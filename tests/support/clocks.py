"""A clock for components that take time as `clock: Callable[[], float]` (and an async
`sleep`): it moves only when a test advances it or something sleeps on it, so time-based
logic is tested exactly and without waiting. Collector components take the async `Clock` of
`routewatch.collector.clock` instead, whose fake is `routewatch.collector.clock.FakeClock`."""

from __future__ import annotations


class ManualClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now

    async def sleep(self, seconds: float) -> None:
        """Returns at once, having moved time by `seconds` (and noted them in `sleeps`)."""
        self.sleeps.append(seconds)
        self.now += seconds
