"""Self-telemetry: counters and gauges under the Go collector's metric names.

One registry per collector, passed to every component in `CreateSettings.telemetry`, rendered
in Prometheus text format by the service (`service.telemetry.metrics`, default localhost:8888).
Thread-safe: exporters may count from worker threads.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping

LabelKey = tuple[tuple[str, str], ...]


class Telemetry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters: dict[str, dict[LabelKey, float]] = {}
        self._gauges: dict[str, dict[LabelKey, float]] = {}
        self._gauge_funcs: dict[str, dict[LabelKey, Callable[[], float]]] = {}
        self._help: dict[str, str] = {}

    @staticmethod
    def _key(labels: Mapping[str, str]) -> LabelKey:
        return tuple(sorted(labels.items()))

    def describe(self, name: str, help_text: str) -> None:
        self._help[name] = help_text

    def add(self, name: str, value: float, labels: Mapping[str, str] | None = None) -> None:
        """Add to counter `name` (e.g. `otelcol_receiver_accepted_spans`)."""
        key = self._key(labels or {})
        with self._lock:
            series = self._counters.setdefault(name, {})
            series[key] = series.get(key, 0.0) + value

    def set(self, name: str, value: float, labels: Mapping[str, str] | None = None) -> None:
        """Set gauge `name`."""
        with self._lock:
            self._gauges.setdefault(name, {})[self._key(labels or {})] = value

    def gauge_func(
        self, name: str, func: Callable[[], float], labels: Mapping[str, str] | None = None
    ) -> None:
        """Register a gauge read when rendered (queue size, RSS)."""
        with self._lock:
            self._gauge_funcs.setdefault(name, {})[self._key(labels or {})] = func

    def value(self, name: str, labels: Mapping[str, str] | None = None) -> float:
        """Current value of a counter or gauge series (0 when absent); for tests and health."""
        key = self._key(labels or {})
        with self._lock:
            for table in (self._counters, self._gauges):
                if key in table.get(name, {}):
                    return table[name][key]
            func = self._gauge_funcs.get(name, {}).get(key)
        return func() if func else 0.0

    def total(self, name: str) -> float:
        """Sum of a counter over all its label sets."""
        with self._lock:
            return sum(self._counters.get(name, {}).values())

    def render_prometheus(self) -> str:
        with self._lock:
            counters = {n: dict(s) for n, s in self._counters.items()}
            gauges = {n: dict(s) for n, s in self._gauges.items()}
            funcs = {n: dict(s) for n, s in self._gauge_funcs.items()}
        for name, series in funcs.items():
            for key, func in series.items():
                try:
                    gauges.setdefault(name, {})[key] = float(func())
                except Exception:  # a broken gauge must not break the endpoint
                    continue
        lines: list[str] = []
        for kind, table in (("counter", counters), ("gauge", gauges)):
            for name in sorted(table):
                if name in self._help:
                    lines.append(f"# HELP {name} {self._help[name]}")
                lines.append(f"# TYPE {name} {kind}")
                for key, value in sorted(table[name].items()):
                    labels = ",".join(f'{k}="{_escape(v)}"' for k, v in key)
                    text = _number(value)
                    lines.append(f"{name}{{{labels}}} {text}" if labels else f"{name} {text}")
        return "\n".join(lines) + "\n"


def _number(value: float) -> str:
    """Prometheus text: exact integers (a counter must not round), +Inf/-Inf/NaN."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(value)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
