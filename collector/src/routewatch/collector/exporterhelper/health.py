"""Recent send attempts of one exporter, for readiness (`health_check`)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from routewatch.collector.clock import Clock

# Outcomes are kept this long; readiness asks about a window up to it.
RETENTION = 300.0


@dataclass(frozen=True)
class ExporterHealth:
    exporter: str
    signal: str
    # Attempts (each retry counts) that succeeded and failed.
    sent: int
    failed: int
    queue_size: int
    queue_capacity: int

    @property
    def failure_ratio(self) -> float:
        total = self.sent + self.failed
        return self.failed / total if total else 0.0

    @property
    def queue_fill(self) -> float:
        return self.queue_size / self.queue_capacity if self.queue_capacity else 0.0


class OutcomeWindow:
    """Send outcomes (delivered or failed) over the last `retention` seconds."""

    def __init__(self, clock: Clock, retention: float = RETENTION) -> None:
        self._clock = clock
        self.retention = retention
        self._events: deque[tuple[float, bool]] = deque()

    def record(self, ok: bool) -> None:
        self._events.append((self._clock.now(), ok))
        self._trim()

    def counts(self, window: float | None = None) -> tuple[int, int]:
        """(ok, failed) within the last `window` seconds (default: the whole retention)."""
        self._trim()
        horizon = self._clock.now() - (self.retention if window is None else window)
        ok = failed = 0
        for at, good in reversed(self._events):
            if at < horizon:
                break
            if good:
                ok += 1
            else:
                failed += 1
        return ok, failed

    def _trim(self) -> None:
        horizon = self._clock.now() - self.retention
        while self._events and self._events[0][0] < horizon:
            self._events.popleft()
        # Bound memory under a flood: the ratio over the last 10k sends is what matters.
        while len(self._events) > 10_000:
            self._events.popleft()
