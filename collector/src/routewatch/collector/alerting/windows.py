"""Sliding windows of observations per rule and series, and the reading each rule takes.

A series is keyed by the values of the rule's `by` labels (or, without `by`, by every label but
the instance-identifying ones), so observations from several app instances with one label set
land in one window. Each rule holds at most `max_series` series; the least recently updated one
is evicted (and counted) to make room for a new one.

Readings are cached per series and recomputed only when an observation arrived or one left the
window, so a tick over 10,000 quiet series costs a pass over them and nothing more.
"""

from __future__ import annotations

import math
from collections import OrderedDict, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from routewatch.collector.alerting.rules import Rule
from routewatch.collector.alerting.series import (
    MAX_EXEMPLARS,
    Buckets,
    Observation,
    is_instance_attribute,
)

SeriesKey = tuple[object, ...]


@dataclass(slots=True, frozen=True)
class Reading:
    value: float | None  # None: no data in the window
    samples: float
    exemplars: tuple[str, ...] = ()


NO_DATA = Reading(None, 0.0)


def histogram_quantile(q: float, buckets: Buckets) -> float | None:
    """The q-quantile of merged bucket counts, interpolated linearly within the bucket as
    Prometheus' `histogram_quantile` does; the +Inf bucket answers its lower bound."""
    bounds = sorted(buckets)
    total = sum(buckets.values())
    if total <= 0 or not bounds:
        return None
    rank = q * total
    cumulative = 0.0
    lower = 0.0 if bounds[0] > 0 else bounds[0]
    for bound in bounds:
        count = buckets[bound]
        if cumulative + count >= rank and count > 0:
            if math.isinf(bound):
                return lower
            if bound <= lower:
                return bound
            return lower + (bound - lower) * (rank - cumulative) / count
        cumulative += count
        if not math.isinf(bound):
            lower = bound
    return lower


class SeriesWindow:
    __slots__ = ("dirty", "entries", "first_seen", "gauge", "last_seen", "reading")

    def __init__(self, now: float) -> None:
        # (time, amount, detail, exemplars); detail: buckets (quantile), denominator (ratio),
        # label value (imbalance), None otherwise.
        self.entries: deque[tuple[float, float, object, tuple[tuple[float, str], ...]]] = deque()
        self.first_seen = now
        self.last_seen = now
        self.dirty = True
        self.reading: Reading = NO_DATA
        self.gauge = False

    def add(
        self,
        t: float,
        amount: float,
        detail: object,
        exemplars: tuple[tuple[float, str], ...],
    ) -> None:
        entry = (t, amount, detail, exemplars)
        if not self.entries or t >= self.entries[-1][0]:
            self.entries.append(entry)
        else:  # out of order (another instance lagging): keep the deque sorted by time
            i = len(self.entries)
            while i > 0 and self.entries[i - 1][0] > t:
                i -= 1
            self.entries.insert(i, entry)
        self.last_seen = max(self.last_seen, t)
        self.dirty = True

    def evict(self, cutoff: float) -> None:
        entries = self.entries
        while entries and entries[0][0] <= cutoff:
            entries.popleft()
            self.dirty = True


def _top(exemplars: list[tuple[float, str]], slowest: bool) -> tuple[str, ...]:
    if slowest:
        exemplars.sort(reverse=True)
    else:
        exemplars.reverse()  # most recent first
    out: list[str] = []
    for _, trace_id in exemplars:
        if trace_id not in out:
            out.append(trace_id)
            if len(out) == MAX_EXEMPLARS:
                break
    return tuple(out)


class RuleWindows:
    """The windows of one rule."""

    def __init__(self, rule: Rule, max_series: int, started_at: float) -> None:
        self.rule = rule
        self.max_series = max_series
        self.started_at = started_at
        self.series: OrderedDict[SeriesKey, SeriesWindow] = OrderedDict()
        self.evictions = 0
        c = rule.config
        self._by = tuple(c.by) if c.by is not None else None
        self._time_dependent = c.baseline_window is not None or c.kind == "absent"
        if c.kind == "absent" and self._by == ():
            # "no point at all": one series that exists from the start
            self.series[()] = SeriesWindow(started_at)

    def key_of(self, labels: dict[str, str]) -> SeriesKey:
        if self._by is not None:
            return tuple(labels.get(k, "") for k in self._by)
        return tuple(sorted((k, v) for k, v in labels.items() if not is_instance_attribute(k)))

    def labels_of(self, key: SeriesKey) -> dict[str, str]:
        if self._by is not None:
            return {k: str(v) for k, v in zip(self._by, key, strict=True) if v}
        pairs: Iterable[tuple[str, str]] = key  # type: ignore[assignment]
        return {k: v for k, v in pairs}

    def window_for(self, key: SeriesKey, now: float) -> SeriesWindow:
        window = self.series.get(key)
        if window is None:
            if len(self.series) >= self.max_series:
                self.series.popitem(last=False)
                self.evictions += 1
            window = self.series[key] = SeriesWindow(now)
        else:
            self.series.move_to_end(key)
        return window

    def add(self, obs: Observation, amount: float, detail: object, now: float) -> None:
        """Add one observation (already matched to this rule) at its time, clamped to now."""
        t = min(obs.time, now)
        if t <= now - self.rule.span:
            return
        window = self.window_for(self.key_of(obs.labels), now)
        window.gauge = obs.kind == "gauge"
        window.add(t, amount, detail, obs.exemplars)

    def readings(self, now: float) -> Iterator[tuple[SeriesKey, Reading]]:
        cutoff = now - self.rule.span
        read = self._read
        for key, window in self.series.items():
            window.evict(cutoff)
            if window.dirty or self._time_dependent:
                window.reading = read(window, now)
                window.dirty = False
            yield key, window.reading

    def gc(self, now: float, keep: set[SeriesKey]) -> None:
        """Forget series with no observation left, unless an alert still refers to them."""
        if self.rule.config.kind == "absent":
            return  # a series that went quiet is exactly what an absent rule reports
        cutoff = now - self.rule.span
        stale = [
            k
            for k, w in self.series.items()
            if not w.entries and w.last_seen <= cutoff and k not in keep
        ]
        for key in stale:
            del self.series[key]

    # Readings by kind. `entries` only holds what is inside the rule's span.

    def _read(self, window: SeriesWindow, now: float) -> Reading:
        kind = self.rule.config.kind
        if kind == "quantile":
            return self._quantile(window, now)
        if kind == "ratio":
            return self._ratio(window, now)
        if kind == "imbalance":
            return self._imbalance(window, now)
        if kind == "absent":
            return Reading(now - window.last_seen, 1.0)
        return self._value(window, now)

    def _quantile(self, window: SeriesWindow, now: float) -> Reading:
        merged: Buckets = {}
        count = 0.0
        exemplars: list[tuple[float, str]] = []
        for _, amount, buckets, ex in window.entries:
            count += amount
            for bound, n in buckets.items():  # type: ignore[attr-defined]
                merged[bound] = merged.get(bound, 0.0) + n
            exemplars.extend(ex)
        q = self.rule.config.quantile or 0.0
        value = histogram_quantile(q, merged)
        return Reading(value, count, _top(exemplars, slowest=True))

    def _ratio(self, window: SeriesWindow, now: float) -> Reading:
        num = den = 0.0
        exemplars: list[tuple[float, str]] = []
        for _, amount, denominator, ex in window.entries:
            num += amount
            den += denominator  # type: ignore[operator]
            exemplars.extend(ex)
        if den <= 0:
            return Reading(None, den)
        value = num / den
        if self.rule.config.complement:
            value = 1.0 - value
        return Reading(value, den, _top(exemplars, slowest=False))

    def _imbalance(self, window: SeriesWindow, now: float) -> Reading:
        a, b = self.rule.config.between
        total = share_a = share_b = 0.0
        for _, amount, value, _ex in window.entries:
            total += amount
            if value == a:
                share_a += amount
            elif value == b:
                share_b += amount
        if total <= 0:
            return Reading(None, 0.0)
        return Reading(abs(share_a - share_b) / total * 100.0, total)

    def _value(self, window: SeriesWindow, now: float) -> Reading:
        c = self.rule.config
        recent_from = now - c.window
        recent = [e for e in window.entries if e[0] > recent_from]
        exemplars = _top([x for e in recent for x in e[3]], slowest=False)
        if not recent:
            return Reading(None, 0.0)
        if window.gauge:
            values = [e[1] for e in recent]
            how = c.aggregate or "last"
            value = {
                "last": values[-1],
                "avg": sum(values) / len(values),
                "min": min(values),
                "max": max(values),
                "sum": sum(values),
            }[how]
            return Reading(value, float(len(recent)), exemplars)
        total = sum(e[1] for e in recent)
        if c.baseline_window is None:
            return Reading(total / c.window if c.rate else total, float(len(recent)), exemplars)
        baseline_span = min(c.baseline_window, recent_from - window.first_seen)
        base = sum(e[1] for e in window.entries if e[0] <= recent_from)
        if baseline_span <= 0 or base <= 0:
            return Reading(None, 0.0)
        change = (total / c.window) / (base / baseline_span) - 1.0
        return Reading(change * 100.0, float(len(recent)), exemplars)
