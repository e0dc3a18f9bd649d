"""Packed cumulative bucket counts: sums, quantiles from a bucket hint, and the count limit."""

import math
import random

import pytest

from routewatch.collector.alerting.buckets import (
    MAX_POINT_COUNT,
    histogram_quantile,
    merge_packed,
    pack_cumulative,
    packed_quantile,
    unpack,
)

BOUNDS = (0.5, 1.0, 2.0, 4.0, math.inf)
CASES = [
    [0, 0, 3, 5, 0],  # leading empty buckets
    [0, 0, 0, 0, 7],  # everything in +Inf
    [4, 0, 0, 4, 0],  # a rank exactly on a bucket's cumulative count
    [1, 1, 1, 1, 1],
    [0, 0, 0, 0, 0],  # empty
]


@pytest.mark.parametrize("counts", CASES)
@pytest.mark.parametrize("q", [0.0, 0.25, 0.5, 0.95, 1.0])
def test_packed_quantile_from_any_hint_equals_the_full_computation(
    counts: list[int], q: float
) -> None:
    expected = histogram_quantile(q, BOUNDS, counts)
    packed = pack_cumulative(counts)
    for hint in range(len(BOUNDS)):
        value, bucket = packed_quantile(q, BOUNDS, packed, hint)
        assert value == expected, (hint, value, expected)
        # the bucket returned is a hint that is right the next time
        assert packed_quantile(q, BOUNDS, packed, bucket)[0] == expected


def test_sums_of_packed_counts_are_sums_of_the_counts() -> None:
    rng = random.Random(7)
    points = [[rng.randrange(0, 1000) for _ in BOUNDS] for _ in range(50)]
    total = sum(pack_cumulative(p) for p in points)
    total -= pack_cumulative(points[0])  # a point leaves the window
    per_bucket = [sum(p[i] for p in points[1:]) for i in range(len(BOUNDS))]
    assert list(unpack(total, len(BOUNDS))) == [sum(per_bucket[: i + 1]) for i in range(5)]
    assert packed_quantile(0.9, BOUNDS, total, 0)[0] == histogram_quantile(0.9, BOUNDS, per_bucket)


def test_layouts_merge_per_bound() -> None:
    a = ((1.0, math.inf), pack_cumulative([2, 1]))
    b = ((1.0, 2.0, math.inf), pack_cumulative([1, 4, 0]))
    bounds, cumulative = merge_packed(dict([a, b]))
    assert bounds == (1.0, 2.0, math.inf)
    assert cumulative == [3, 7, 8]


def test_a_point_with_more_observations_than_a_window_can_sum_is_refused() -> None:
    assert unpack(pack_cumulative([MAX_POINT_COUNT, 0]), 2).tolist() == [MAX_POINT_COUNT] * 2
    with pytest.raises(ValueError, match="MAX_POINT_COUNT"):
        pack_cumulative([MAX_POINT_COUNT, 1])
    with pytest.raises(OverflowError):
        pack_cumulative([-1, 2])
