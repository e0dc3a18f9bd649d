"""A circuit breaker per path: 3 failures open it for 30 s, then 2 half-open trial calls.

The clock is injected (seconds, monotonic) so tests step through the states exactly.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    def __init__(
        self,
        failure_threshold: int = 3,
        open_seconds: float = 30.0,
        half_open_calls: int = 2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failure_threshold = failure_threshold
        self.open_seconds = open_seconds
        self.half_open_calls = half_open_calls
        self._clock = clock
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._trials = 0
        self._trial_successes = 0

    @property
    def state(self) -> BreakerState:
        if (
            self._state is BreakerState.OPEN
            and self._clock() - self._opened_at >= self.open_seconds
        ):
            self._state = BreakerState.HALF_OPEN
            self._trials = self._trial_successes = 0
        return self._state

    def healthy(self) -> bool:
        """Closed, or half-open with trial calls left."""
        state = self.state
        return state is BreakerState.CLOSED or (
            state is BreakerState.HALF_OPEN and self._trials < self.half_open_calls
        )

    def started(self) -> None:
        """A call on this path begins (counts a half-open trial)."""
        if self.state is BreakerState.HALF_OPEN:
            self._trials += 1

    def succeeded(self) -> None:
        state = self.state
        if state is BreakerState.HALF_OPEN:
            self._trial_successes += 1
            if self._trial_successes >= self.half_open_calls:
                self._state, self._failures = BreakerState.CLOSED, 0
        elif state is BreakerState.CLOSED:
            self._failures = 0

    def failed(self) -> None:
        state = self.state
        if state is BreakerState.HALF_OPEN:
            self._open()
        elif state is BreakerState.CLOSED:
            self._failures += 1
            if self._failures >= self.failure_threshold:
                self._open()

    def _open(self) -> None:
        self._state, self._opened_at, self._failures = BreakerState.OPEN, self._clock(), 0
