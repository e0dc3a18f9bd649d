"""Histogram bucket counts as one packed integer, and quantiles over them.

A window adds every point's bucket counts to a running total and subtracts them when the point
leaves: on a list of 15 counts that is a Python-level loop per point and per eviction. Packed
into one integer (bucket i in bits 64*i .. 64*i+63), adding or subtracting two histograms is a
single big-integer operation, and unpacking is one C-level copy into an `array`. The counts
packed are cumulative over the buckets (bucket i holds the observations at or below bound i),
which is what a quantile needs, so a reading does no running sum either.

The fields never borrow from each other: every total is a sum of points that are themselves
non-negative, and a point's count is bounded (`MAX_POINT_COUNT`) so that `MAX_ENTRIES` of them
fit in 64 bits.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from itertools import accumulate

Bounds = tuple[float, ...]
# A bucket's count in one point: beyond this the point is refused as invalid (2**49 a point,
# times at most 2**14 points a window, stays below 2**64).
MAX_POINT_COUNT = 2**49
_FIELD = 8  # bytes per bucket
_BITS = _FIELD * 8
_MASK = (1 << _BITS) - 1
INF = float("inf")


def pack_cumulative(counts: Sequence[int]) -> int:
    """One integer holding the running sum of `counts` (ints, each >= 0); ValueError when
    their sum exceeds MAX_POINT_COUNT."""
    packed = int.from_bytes(array("Q", accumulate(counts)), "little")
    if counts and packed >> (_BITS * (len(counts) - 1)) > MAX_POINT_COUNT:
        raise ValueError("bucket counts beyond MAX_POINT_COUNT")
    return packed


def unpack(packed: int, buckets: int) -> array[int]:
    """The cumulative counts of `buckets` buckets."""
    return array("Q", packed.to_bytes(buckets * _FIELD, "little"))


def packed_quantile(q: float, bounds: Bounds, packed: int, hint: int) -> tuple[float | None, int]:
    """The q-quantile of packed cumulative counts with these bounds (one bucket each), and the
    bucket it fell in. Pass that bucket back as `hint` next time: a window's quantile seldom
    leaves its bucket, and confirming that reads three counts instead of unpacking them all."""
    n = len(bounds)
    total = packed >> (_BITS * (n - 1))
    if total <= 0:
        return None, hint
    rank = q * total
    if 0 <= hint < n:
        below = (packed >> (_BITS * (hint - 1))) & _MASK if hint else 0
        upto = (packed >> (_BITS * hint)) & _MASK
        if below < rank <= upto:  # exactly the bucket bisect_left would find
            return _interpolate(bounds, hint, rank, below, upto), hint
    cumulative = unpack(packed, n)
    i, below_i = _bucket(cumulative, rank)
    return _interpolate(bounds, i, rank, below_i, cumulative[i]), i


def quantile_of_cumulative(q: float, bounds: Bounds, cumulative: Sequence[float]) -> float | None:
    """The q-quantile from cumulative bucket counts (bounds ascending, +Inf last for explicit
    buckets), interpolated linearly within the bucket as Prometheus' `histogram_quantile` does;
    a rank in the +Inf bucket answers the highest finite bound."""
    if not cumulative:
        return None
    total = cumulative[-1]
    if total <= 0:
        return None
    rank = q * total
    i, below = _bucket(cumulative, rank)
    return _interpolate(bounds, i, rank, below, cumulative[i])


def _bucket(cumulative: Sequence[float], rank: float) -> tuple[int, float]:
    """The first non-empty bucket whose cumulative count reaches `rank`, and the count below it."""
    i = bisect_left(cumulative, rank)
    below = cumulative[i - 1] if i else 0
    while cumulative[i] <= below:  # rank 0 lands on leading empty buckets (`below` stays)
        i += 1
    return i, below


def _interpolate(bounds: Bounds, i: int, rank: float, below: float, upto: float) -> float | None:
    upper = bounds[i]
    lower = bounds[i - 1] if i else (0.0 if upper > 0 else upper)
    if upper == INF:
        return lower if i else None
    return lower + (upper - lower) * (rank - below) / (upto - below)


def histogram_quantile(q: float, bounds: Bounds, counts: Iterable[float]) -> float | None:
    """The q-quantile of per-bucket counts (see `quantile_of_cumulative`)."""
    return quantile_of_cumulative(q, bounds, list(accumulate(counts)))


def merge_packed(hists: dict[Bounds, int]) -> tuple[Bounds, list[int]]:
    """One (bounds, cumulative counts) from several bucket layouts (rare: an app changed its
    buckets, or exponential histograms changed scale)."""
    per_bucket: dict[float, int] = {}
    for bounds, packed in hists.items():
        previous = 0
        for bound, running in zip(bounds, unpack(packed, len(bounds)), strict=True):
            per_bucket[bound] = per_bucket.get(bound, 0) + running - previous
            previous = running
    keys = tuple(sorted(per_bucket))
    return keys, list(accumulate(per_bucket[k] for k in keys))
