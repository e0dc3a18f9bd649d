"""Cumulative-to-delta: first point, resets, out-of-order points, eviction (TTL and cap)."""

from __future__ import annotations

from typing import Any

from emf_validator import validate
from support.clocks import ManualClock

from routewatch.exporters.emf import DeltaTracker, EmfConfig, EmfEncoder, Stats
from routewatch.exporters.emf.stats import DELTA_EVICTIONS, DROPPED_POINTS

S = 10**9  # one second in ns
T0 = 1_700_000_000 * S


def tracker(**kw: Any) -> tuple[DeltaTracker, Stats, ManualClock]:
    stats, clock = Stats(), ManualClock()
    return DeltaTracker(stats, clock=clock, **kw), stats, clock


def test_first_point_is_the_baseline() -> None:
    delta, _, _ = tracker()
    assert delta.number("s", T0, T0 + S, 5) is None
    assert delta.number("s", T0, T0 + 2 * S, 8) == 3
    assert delta.number("s", T0, T0 + 3 * S, 8) == 0


def test_first_point_retained_when_configured() -> None:
    delta, _, _ = tracker(retain_initial=True)
    assert delta.number("s", T0, T0 + S, 5) == 5
    assert delta.number("s", T0, T0 + 2 * S, 8) == 3


def test_reset_by_start_time() -> None:
    delta, _, _ = tracker()
    delta.number("s", T0, T0 + S, 100)
    # the process restarted: a later start time, a small value = what accrued since
    assert delta.number("s", T0 + 5 * S, T0 + 6 * S, 4) == 4
    assert delta.number("s", T0 + 5 * S, T0 + 7 * S, 10) == 6


def test_reset_by_value_going_down() -> None:
    delta, _, _ = tracker()
    delta.number("s", 0, T0 + S, 100)
    assert delta.number("s", 0, T0 + 2 * S, 7) == 7
    assert delta.number("s", 0, T0 + 3 * S, 9) == 2


def test_out_of_order_and_repeated_points_dropped_and_counted() -> None:
    delta, stats, _ = tracker()
    delta.number("s", T0, T0 + 5 * S, 10)
    assert delta.number("s", T0, T0 + 3 * S, 7) is None
    assert delta.number("s", T0, T0 + 5 * S, 10) is None
    assert stats.get(DROPPED_POINTS, "out_of_order") == 2
    # the late point did not disturb the state
    assert delta.number("s", T0, T0 + 6 * S, 12) == 2


def test_histogram_delta_and_reset() -> None:
    delta, _, _ = tracker()
    assert delta.histogram("h", T0, T0 + S, (3, 6.0, (1, 2, 0))) is None
    assert delta.histogram("h", T0, T0 + 2 * S, (5, 10.0, (1, 3, 1))) == (2, 4.0, (0, 1, 1))
    # a bucket going down is a reset even when the count did not
    assert delta.histogram("h", T0, T0 + 3 * S, (5, 11.0, (0, 4, 1))) == (5, 11.0, (0, 4, 1))
    # bucket layout changed: a reset
    assert delta.histogram("h", T0, T0 + 4 * S, (6, 12.0, (6,))) == (6, 12.0, (6,))
    # nothing observed since: zero counts (a sum that moved anyway is passed on)
    assert delta.histogram("h", T0, T0 + 5 * S, (6, 12.5, (6,))) == (0, 0.5, (0,))


def test_one_name_as_sum_and_histogram_keeps_two_series() -> None:
    """Two metrics of one name but different kinds (two scopes, say) do not mix their state."""
    delta, _, _ = tracker()
    assert delta.number("m", T0, T0 + S, 4) is None
    assert delta.histogram("m", T0, T0 + S, (3, 6.0, (1, 2))) is None
    assert delta.summary("m", T0, T0 + S, (3, 6.0)) is None
    assert delta.number("m", T0, T0 + 2 * S, 10) == 6
    assert delta.histogram("m", T0, T0 + 2 * S, (5, 10.0, (2, 3))) == (2, 4.0, (1, 1))
    assert delta.summary("m", T0, T0 + 2 * S, (4, 7.0)) == (1, 1.0)


def test_exponential_histogram_delta_across_offsets_and_downscale() -> None:
    delta, _, _ = tracker()
    first = (2, 3.0, 2, 0, 4, (1, 1), 0, ())
    assert delta.exp_histogram("e", T0, T0 + S, first) is None
    # range widened: offset moved down by one, one more observation in the new bucket
    wider = (3, 4.0, 2, 1, 3, (0, 1, 1), 0, ())
    assert delta.exp_histogram("e", T0, T0 + 2 * S, wider) == (1, 1.0, 2, 1, 3, (0, 0, 0), 0, ())
    # scale 2 -> 1 maps index i to i >> 1 (3->1, 4->2, 5->2), so the previous
    # (0,1,1) at offset 3 is (0,2) at offset 1
    down = (4, 6.0, 1, 1, 1, (0, 3), 0, ())
    assert delta.exp_histogram("e", T0, T0 + 3 * S, down) == (1, 2.0, 1, 0, 1, (0, 1), 0, ())


def test_ttl_eviction_with_injected_clock() -> None:
    delta, stats, clock = tracker(ttl=60)
    delta.tick()
    delta.number("old", T0, T0 + S, 1)
    clock.now += 30
    delta.tick()
    delta.number("new", T0, T0 + S, 1)
    clock.now += 31  # "old" last seen 61 s ago, "new" 31 s ago
    delta.tick()
    assert len(delta) == 1
    assert stats.get(DELTA_EVICTIONS, "ttl") == 1
    # an evicted series starts over: its next point is a baseline again
    assert delta.number("old", T0, T0 + 2 * S, 5) is None
    assert delta.number("new", T0, T0 + 2 * S, 5) == 4


def test_series_cap_evicts_least_recently_seen() -> None:
    delta, stats, _ = tracker(max_series=2)
    delta.number("a", T0, T0 + S, 1)
    delta.number("b", T0, T0 + S, 1)
    delta.number("a", T0, T0 + 2 * S, 2)  # "a" is now the most recent
    delta.number("c", T0, T0 + S, 1)  # evicts "b"
    assert len(delta) == 2
    assert stats.get(DELTA_EVICTIONS, "max_series") == 1
    assert delta.number("a", T0, T0 + 3 * S, 5) == 3
    assert delta.number("b", T0, T0 + 2 * S, 9) is None


def test_series_cap_evicts_least_recently_seen_of_any_kind() -> None:
    """Kinds keep their states apart, but the cap counts them all and evicts the least
    recently updated series, whatever its kind."""
    delta, stats, clock = tracker(max_series=3)

    def export(update: Any) -> None:
        clock.now += 1
        delta.tick()
        update()

    export(lambda: delta.histogram("h", T0, T0 + S, (1, 1.0, (1,))))
    export(lambda: delta.number("n", T0, T0 + S, 1))
    export(lambda: delta.summary("s", T0, T0 + S, (1, 1.0)))
    export(lambda: delta.histogram("h", T0, T0 + 2 * S, (2, 2.0, (2,))))  # "n" is now oldest
    export(lambda: delta.exp_histogram("e", T0, T0 + S, (1, 1.0, 0, 0, 0, (1,), 0, ())))
    assert len(delta) == 3
    assert stats.get(DELTA_EVICTIONS, "max_series") == 1
    assert delta.histogram("h", T0, T0 + 3 * S, (3, 3.0, (3,))) == (1, 1.0, (1,))
    assert delta.summary("s", T0, T0 + 2 * S, (2, 3.0)) == (1, 2.0)
    assert delta.number("n", T0, T0 + 2 * S, 9) is None  # evicted: a baseline again


def test_cumulative_counter_through_the_encoder() -> None:
    enc = EmfEncoder(EmfConfig(namespace="N"))
    values = []
    for step, total in enumerate([10, 15, 15, 3]):
        batch = enc.batch()
        info = batch.metric("requests", "{request}", counter=True)
        batch.sum(info, {"route": "direct"}, T0, T0 + (step + 1) * S, total, True)
        for events in batch.events().values():
            values.extend(validate(m)["requests"] for _, m in events)
    assert values == [5, 0, 3]


def test_rollback_undoes_one_export() -> None:
    delta, _, _ = tracker()
    delta.tick()
    delta.number("s", T0, T0 + S, 10)
    delta.histogram("h", T0, T0 + S, (1, 1.0, (1,)))
    delta.tick()
    assert delta.number("s", T0, T0 + 2 * S, 15) == 5
    assert delta.number("new", T0, T0 + 2 * S, 1) is None
    delta.histogram("h", T0, T0 + 2 * S, (3, 4.0, (3,)))
    delta.rollback()  # e.g. the buffer refused the events
    assert len(delta) == 2  # "new" is gone again
    # the retried request finds the state as it was
    assert delta.number("s", T0, T0 + 2 * S, 15) == 5
    assert delta.histogram("h", T0, T0 + 2 * S, (3, 4.0, (3,))) == (2, 3.0, (2,))
