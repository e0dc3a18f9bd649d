"""Cumulative-to-delta conversion with bounded state.

CloudWatch sums every value it receives, so cumulative series must be sent as the change since
the previous point. State is kept per series (resource, metric, attributes) in insertion order
of last update, so the oldest entry is evicted first: by a TTL (series not seen for `ttl`
seconds) and by a cap on the number of series. Both evictions are counted. Time comes from an
injectable monotonic clock, read once per export (`tick`).

Semantics, as otelcol-contrib's awsemfexporter (retain_initial_value_of_delta_metric):
- the first point of a series is the baseline and is not sent, unless `retain_initial` is set;
- a reset (a later start time, or a value/count/bucket that goes down) sends the new
  cumulative value as is: it is what accrued since the reset;
- a point not newer than the last one seen (out of order or repeated) is dropped and counted.

The changes of one export are journaled: when its events cannot be handed on (a full buffer),
`rollback` undoes them, so the retried request, or the next export, still carries the change.
"""

from __future__ import annotations

import operator
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from routewatch.exporters.emf.stats import DELTA_EVICTIONS, DROPPED_POINTS, Stats

DEFAULT_TTL_SECONDS = 600.0
DEFAULT_MAX_SERIES = 100_000

# (count, sum, bucket counts)
HistogramState = tuple[int, float, tuple[int, ...]]
# (count, sum, scale, zero count, positive offset, positive counts, negative offset,
# negative counts)
ExpHistogramState = tuple[int, float, int, int, int, tuple[int, ...], int, tuple[int, ...]]


class _Entry:
    __slots__ = ("seen", "start", "ts", "value")

    def __init__(self, start: int, ts: int, value: Any, seen: float) -> None:
        self.start = start
        self.ts = ts
        self.value = value
        self.seen = seen


class DeltaTracker:
    def __init__(
        self,
        stats: Stats,
        *,
        retain_initial: bool = False,
        ttl: float = DEFAULT_TTL_SECONDS,
        max_series: int = DEFAULT_MAX_SERIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl <= 0 or max_series <= 0:
            raise ValueError("ttl and max_series must be positive")
        self._stats = stats
        self._retain_initial = retain_initial
        self._ttl = ttl
        self._max_series = max_series
        self._clock = clock
        self._series: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._now = clock()
        # (key, previous start, ts, value, seen), or (key, None) if the export created the
        # series: one tuple a point
        self._journal: list[tuple[Any, ...]] = []

    def __len__(self) -> int:
        return len(self._series)

    def tick(self) -> None:
        """Start an export: read the clock once and expire series older than the TTL."""
        self._journal.clear()
        self._now = now = self._clock()
        horizon = now - self._ttl
        series = self._series
        expired = 0
        while series:
            key, entry = next(iter(series.items()))
            if entry.seen > horizon:
                break
            del series[key]
            expired += 1
        if expired:
            self._stats.count(DELTA_EVICTIONS, "ttl", expired)

    def number(self, key: Hashable, start: int, ts: int, value: float) -> float | None:
        """The delta for a cumulative number point, or None when nothing is to be sent."""
        entry = self._series.get(key)
        if entry is None:
            self._insert(key, start, ts, value)
            return value if self._retain_initial else None
        if ts <= entry.ts:
            self._stats.count(DROPPED_POINTS, "out_of_order")
            return None
        prev = entry.value
        reset = start > entry.start or value < prev
        self._journal.append((key, entry.start, entry.ts, prev, entry.seen))
        entry.start, entry.ts, entry.value, entry.seen = start, ts, value, self._now
        self._series.move_to_end(key)
        return value if reset else value - prev

    def histogram(
        self, key: Hashable, start: int, ts: int, state: HistogramState
    ) -> HistogramState | None:
        # Each kind keeps its own series: one name can be a sum and a histogram at once.
        return self._advance(("histogram", key), start, ts, state, _histogram_delta)

    def exp_histogram(
        self, key: Hashable, start: int, ts: int, state: ExpHistogramState
    ) -> ExpHistogramState | None:
        return self._advance(("exp_histogram", key), start, ts, state, _exp_histogram_delta)

    def summary(
        self, key: Hashable, start: int, ts: int, state: tuple[int, float]
    ) -> tuple[int, float] | None:
        return self._advance(("summary", key), start, ts, state, _summary_delta)

    def _advance(
        self, key: Hashable, start: int, ts: int, state: Any, delta: Callable[[Any, Any], Any]
    ) -> Any:
        entry = self._series.get(key)
        if entry is None:
            self._insert(key, start, ts, state)
            return state if self._retain_initial else None
        if ts <= entry.ts:
            self._stats.count(DROPPED_POINTS, "out_of_order")
            return None
        result = None if start > entry.start else delta(state, entry.value)
        self._journal.append((key, entry.start, entry.ts, entry.value, entry.seen))
        entry.start, entry.ts, entry.value, entry.seen = start, ts, state, self._now
        self._series.move_to_end(key)
        # None from `delta` means the series went down: a reset, so the value is the delta.
        return state if result is None else result

    def _insert(self, key: Hashable, start: int, ts: int, value: Any) -> None:
        series = self._series
        if len(series) >= self._max_series:
            series.popitem(last=False)
            self._stats.count(DELTA_EVICTIONS, "max_series")
        series[key] = _Entry(start, ts, value, self._now)
        self._journal.append((key, None))  # created by this export

    def rollback(self) -> None:
        """Undo this export's changes (series evicted meanwhile stay evicted)."""
        series = self._series
        for key, *previous in reversed(self._journal):
            if previous == [None]:
                series.pop(key, None)
                continue
            entry = series.get(key)
            if entry is not None:
                entry.start, entry.ts, entry.value, entry.seen = previous
        self._journal.clear()


def _summary_delta(cur: tuple[int, float], prev: tuple[int, float]) -> tuple[int, float] | None:
    if cur[0] < prev[0]:
        return None
    return cur[0] - prev[0], cur[1] - prev[1]


def _histogram_delta(cur: HistogramState, prev: HistogramState) -> HistogramState | None:
    count, total, buckets = cur
    pcount, ptotal, pbuckets = prev
    if count < pcount or len(buckets) != len(pbuckets):
        return None
    if buckets == pbuckets:  # no new observations: a comparison, no work per bucket
        return count - pcount, total - ptotal, (0,) * len(buckets)
    diff = tuple(map(operator.sub, buckets, pbuckets))
    if diff and min(diff) < 0:
        return None
    return count - pcount, total - ptotal, diff


def _exp_histogram_delta(
    cur: ExpHistogramState, prev: ExpHistogramState
) -> ExpHistogramState | None:
    count, total, scale, zero, poff, pos, noff, neg = cur
    pcount, ptotal, pscale, pzero, ppoff, ppos, pnoff, pneg = prev
    if count < pcount or zero < pzero or scale > pscale:
        return None
    shift = pscale - scale
    pos_diff = _bucket_delta(poff, pos, ppoff, ppos, shift)
    neg_diff = _bucket_delta(noff, neg, pnoff, pneg, shift)
    if pos_diff is None or neg_diff is None:
        return None
    return (count - pcount, total - ptotal, scale, zero - pzero, poff, pos_diff, noff, neg_diff)


def _bucket_delta(
    offset: int, counts: tuple[int, ...], poffset: int, pcounts: tuple[int, ...], shift: int
) -> tuple[int, ...] | None:
    """Subtract previous exponential buckets (downscaled by `shift`) from the current ones."""
    diff = list(counts)
    for i, c in enumerate(pcounts):
        if not c:
            continue
        j = ((poffset + i) >> shift) - offset
        if j < 0 or j >= len(diff):
            return None
        diff[j] -= c
        if diff[j] < 0:
            return None
    return tuple(diff)
