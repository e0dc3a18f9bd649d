"""Sliding windows of observations per rule and series, and the reading each rule takes.

A series is keyed by the values of the rule's `by` labels (or, without `by`, by every label but
the instance-identifying ones), so observations from several app instances with one label set
land in one window. Each rule holds at most `max_series` series; the least recently updated one
is evicted (and counted) to make room for a new one.

Each window keeps running sums (observation count, ratio parts, merged bucket counts per bucket
layout, packed as in `buckets.py`) updated as points enter and leave, and its reading is
recomputed only when that happened: a quantile over a 5-minute window costs one bisection over
~15 cumulative counts, not a pass over the window's points. Exemplars are gathered from the
points only for alerts that need them.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Iterable, Iterator, Mapping
from typing import NamedTuple

from routewatch.collector.alerting.buckets import (
    Bounds,
    merge_packed,
    packed_quantile,
    quantile_of_cumulative,
)
from routewatch.collector.alerting.rules import Rule
from routewatch.collector.alerting.series import (
    MAX_EXEMPLARS,
    Observation,
    is_instance_attribute,
)

SeriesKey = tuple[object, ...]
GC_INTERVAL = 60.0
# Points kept per series; beyond it the oldest leave early (counted as `dropped_points`).
MAX_ENTRIES = 10_000
Entry = tuple[float, float, object, tuple[tuple[float, str], ...]]


class Reading(NamedTuple):  # a tuple: built for every changed series on every tick
    value: float | None  # None: no data in the window
    samples: float


NO_DATA = Reading(None, 0.0)
# Reading's own constructor is a Python function; tuple.__new__ builds the same in C.
_reading = tuple.__new__


class SeriesWindow:
    __slots__ = (
        "aux",
        "bucket",
        "dirty",
        "entries",
        "first_seen",
        "gauge",
        "hb",
        "hc",
        "hists",
        "last_seen",
        "reading",
        "stepped",
        "total",
    )

    def __init__(self, now: float) -> None:
        # (time, amount, detail, exemplars); detail: a Hist (quantile), the denominator part
        # (ratio), the label value (imbalance), None otherwise.
        self.entries: deque[Entry] = deque()
        self.first_seen = now
        self.last_seen = now
        self.dirty = True
        # The last reading (value and samples), computed when the window changed.
        self.reading = NO_DATA
        # False when `reading` changed since the engine last stepped alerts on it.
        self.stepped = False
        self.gauge = False
        self.total = 0.0  # sum of amounts in the window
        self.aux = 0.0  # sum of float details (a ratio's denominator)
        # Merged packed bucket counts: `hb`/`hc` for the first layout seen (bounds are interned
        # by the converter, so `is` finds it without hashing 15 floats), `hists` for others.
        self.hb: Bounds | None = None
        self.hc = 0
        self.hists: dict[Bounds, int] = {}
        self.bucket = 0  # where the quantile fell last time (a hint, see packed_quantile)

    def add(
        self, t: float, amount: float, detail: object, exemplars: tuple[tuple[float, str], ...]
    ) -> None:
        entry = (t, amount, detail, exemplars)
        entries = self.entries
        if not entries or t >= entries[-1][0]:
            entries.append(entry)
        else:  # out of order (another instance lagging): keep the deque sorted by time
            i = len(entries)
            while i > 0 and entries[i - 1][0] > t:
                i -= 1
            entries.insert(i, entry)
        if t > self.last_seen:
            self.last_seen = t
        # Running sums; `type(...) is` keeps this cheap on the hot path.
        self.total += amount
        if type(detail) is tuple:
            bounds, packed = detail
            if bounds is self.hb:
                self.hc += packed
            elif self.hb is None and bounds:
                self.hb, self.hc = bounds, packed
            elif bounds:
                self.hists[bounds] = self.hists.get(bounds, 0) + packed
        elif type(detail) is float:
            self.aux += detail
        self.dirty = True

    def evict(self, cutoff: float) -> None:
        entries = self.entries
        if not entries or entries[0][0] > cutoff:
            return
        popleft, total, hb, hc = entries.popleft, self.total, self.hb, self.hc
        while entries and entries[0][0] <= cutoff:
            _, amount, detail, _ = popleft()
            total -= amount
            if type(detail) is tuple:
                bounds, packed = detail
                if bounds is hb:
                    hc -= packed
                elif bounds:
                    self.hists[bounds] -= packed
            elif type(detail) is float:
                self.aux -= detail
        self.total, self.hc, self.dirty = total, hc, True
        if not entries:  # exact zero again, whatever rounding happened on the way
            self.total = self.aux = 0.0
            self.hb, self.hc = None, 0
            self.hists.clear()


class RuleWindows:
    """The windows of one rule."""

    def __init__(self, rule: Rule, max_series: int, started_at: float) -> None:
        self.rule = rule
        self.max_series = max_series
        self.started_at = started_at
        self.series: OrderedDict[SeriesKey, SeriesWindow] = OrderedDict()
        self.evictions = 0
        self.dropped_points = 0
        self._last_gc = started_at
        c = rule.config
        self._by = tuple(c.by) if c.by is not None else None
        self.span = rule.span
        self._q = c.quantile or 0.0
        self._complement = c.complement
        self.time_dependent = c.baseline_window is not None or c.kind == "absent"
        self.compute = {
            "quantile": self._quantile,
            "ratio": self._ratio,
            "imbalance": self._imbalance,
            "absent": self._absent,
            "value": self._value,
        }[c.kind]
        if c.kind == "absent" and self._by == ():
            # "no point at all": one series that exists from the start
            self.series[()] = SeriesWindow(started_at)

    def key_of(self, labels: Mapping[str, str]) -> SeriesKey:
        if self._by is not None:
            return tuple([labels.get(k, "") for k in self._by])
        return tuple(sorted((k, v) for k, v in labels.items() if not is_instance_attribute(k)))

    def labels_of(self, key: SeriesKey) -> dict[str, str]:
        if self._by is not None:
            return {k: str(v) for k, v in zip(self._by, key, strict=True) if v}
        pairs: Iterable[tuple[str, str]] = key  # type: ignore[assignment]
        return dict(pairs)

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

    def add(
        self,
        key: SeriesKey,
        obs: Observation,
        amount: float,
        detail: object,
        now: float,
        exemplars: tuple[tuple[float, str], ...] | None = None,
    ) -> SeriesKey | None:
        """Add one observation (already matched to this rule) to series `key` at its time,
        clamped to now; `exemplars` replaces the observation's own (the observation is shared
        by rules). The key, or None when the observation was too old."""
        t = obs.time if obs.time < now else now
        if t <= now - self.span:  # older than the window on arrival
            self.dropped_points += 1
            return None
        window = self.window_for(key, now)
        window.gauge = obs.kind == "gauge"
        window.add(t, amount, detail, obs.exemplars if exemplars is None else exemplars)
        entries = window.entries
        if entries[0][0] <= now - self.span:
            # What left the span goes while the window is at hand (the evaluation would
            # evict it anyway, and no reading is taken without evicting first).
            window.evict(now - self.span)
        if len(entries) > MAX_ENTRIES:
            window.evict(entries[0][0])
            self.dropped_points += 1
        return key

    def read(self, window: SeriesWindow, now: float) -> Reading:
        window.evict(now - self.rule.span)
        if window.dirty or self.time_dependent:
            window.reading = self.compute(window, now)
            window.dirty = window.stepped = False
        return window.reading

    def readings(
        self, now: float, keys: Iterable[SeriesKey] | None = None
    ) -> Iterator[tuple[SeriesKey, Reading]]:
        read = self.read
        if keys is None:
            for key, window in self.series.items():
                yield key, read(window, now)
            return
        for key in keys:
            found = self.series.get(key)
            if found is not None:
                yield key, read(found, now)

    def exemplars(self, key: SeriesKey, now: float) -> tuple[str, ...]:
        """Up to five trace ids from the window: the slowest for quantile rules, else the most
        recent."""
        window = self.series.get(key)
        if window is None:
            return ()
        since = now - self.rule.config.window
        found = [x for e in window.entries if e[0] > since for x in e[3]]
        if self.rule.config.kind == "quantile":
            found.sort(reverse=True)
        else:
            found.reverse()
        out: list[str] = []
        for _, trace_id in found:
            if trace_id not in out:
                out.append(trace_id)
                if len(out) == MAX_EXEMPLARS:
                    break
        return tuple(out)

    def gc(self, now: float, keep: set[SeriesKey]) -> None:
        """Forget series with no observation left, unless an alert still refers to them.

        A full scan, so at most once per GC_INTERVAL of clock time."""
        if self.rule.config.kind == "absent" or now - self._last_gc < GC_INTERVAL:
            return  # a series that went quiet is exactly what an absent rule reports
        self._last_gc = now
        cutoff = now - self.rule.span
        stale = [
            k
            for k, w in self.series.items()
            if not w.entries and w.last_seen <= cutoff and k not in keep
        ]
        for key in stale:
            del self.series[key]

    # Readings by kind. `entries` only holds what is inside the rule's span.

    def _quantile(self, window: SeriesWindow, now: float) -> Reading:
        if window.hb is None:
            return Reading(None, window.total)
        if window.hists:
            bounds, cumulative = merge_packed({**window.hists, window.hb: window.hc})
            value = quantile_of_cumulative(self._q, bounds, cumulative)
        else:
            value, window.bucket = packed_quantile(self._q, window.hb, window.hc, window.bucket)
        return _reading(Reading, (value, window.total))

    def _ratio(self, window: SeriesWindow, now: float) -> Reading:
        num, den = window.total, window.aux
        if den <= 0:
            return Reading(None, den)
        value = num / den
        return _reading(Reading, (1.0 - value if self._complement else value, den))

    def _absent(self, window: SeriesWindow, now: float) -> Reading:
        return Reading(now - window.last_seen, 1.0)

    def _imbalance(self, window: SeriesWindow, now: float) -> Reading:
        a, b = self.rule.config.between
        share_a = share_b = 0.0
        for _, amount, value, _ex in window.entries:
            if value == a:
                share_a += amount
            elif value == b:
                share_b += amount
        total = window.total
        if total <= 0:
            return Reading(None, 0.0)
        return Reading(abs(share_a - share_b) / total * 100.0, total)

    def _value(self, window: SeriesWindow, now: float) -> Reading:
        c = self.rule.config
        entries = window.entries
        if not entries:
            return Reading(None, 0.0)
        if c.baseline_window is None and not window.gauge:
            total = window.total
            return Reading(total / c.window if c.rate else total, float(len(entries)))
        recent_from = now - c.window
        recent = [e[1] for e in entries if e[0] > recent_from]
        if not recent:
            return Reading(None, 0.0)
        if window.gauge:
            how = c.aggregate or "last"
            value = {
                "last": recent[-1],
                "avg": sum(recent) / len(recent),
                "min": min(recent),
                "max": max(recent),
                "sum": sum(recent),
            }[how]
            return Reading(value, float(len(recent)))
        total = sum(recent)
        assert c.baseline_window is not None
        baseline_span = min(c.baseline_window, recent_from - window.first_seen)
        base = sum(e[1] for e in entries if e[0] <= recent_from)
        if baseline_span <= 0 or base <= 0:
            return Reading(None, 0.0)
        change = (total / c.window) / (base / baseline_span) - 1.0
        return Reading(change * 100.0, float(len(recent)))
