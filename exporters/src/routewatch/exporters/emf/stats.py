"""Counting what the EMF path sanitises, drops or evicts, and logging each cause once.

The core does not know about the collector's Telemetry registry (dependencies point one way);
the collector passes a `sink` callback that forwards each count to it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

_LOGGER = logging.getLogger("routewatch.exporters.emf")

# Counter names, shared by the SDK exporter and the collector component (which exposes them
# as otelcol_exporter_awsemf_<name>{reason=...}).
DROPPED_POINTS = "dropped_points"
SANITIZED_VALUES = "sanitized_values"
DELTA_EVICTIONS = "delta_series_evicted"

CountSink = Callable[[str, str, int], None]


class Stats:
    """Thread-safe tallies by (counter, reason); the first occurrence of a reason is logged."""

    def __init__(self, sink: CountSink | None = None, logger: logging.Logger = _LOGGER) -> None:
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str], int] = {}
        self._sink = sink
        self._logger = logger

    def count(self, counter: str, reason: str, n: int = 1, detail: str = "") -> None:
        key = (counter, reason)
        with self._lock:
            first = key not in self._counts
            self._counts[key] = self._counts.get(key, 0) + n
        if first:
            # Once per cause: a misbehaving series must not flood the log.
            self._logger.warning(
                "EMF %s (%s)%s; further occurrences are only counted",
                counter.replace("_", " "),
                reason,
                f": {detail}" if detail else "",
            )
        if self._sink is not None:
            try:
                self._sink(counter, reason, n)
            except Exception:  # telemetry about telemetry must never break the export
                self._logger.debug("stats sink failed", exc_info=True)

    def get(self, counter: str, reason: str) -> int:
        with self._lock:
            return self._counts.get((counter, reason), 0)

    def snapshot(self) -> dict[tuple[str, str], int]:
        with self._lock:
            return dict(self._counts)
