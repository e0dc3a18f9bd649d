"""Windows: temporality, resets, histograms (explicit and exponential), instance merging,
bounded series, rates, absent, exemplars."""

import math
from typing import Any

import pytest
import yaml
from alerting.engine_helpers import (
    LATENCY_RULE,
    T0,
    TRACE,
    Recorder,
    engine_clock,
    latency_batch,
    latency_config,
    started,
)

from routewatch.collector.alerting.buckets import histogram_quantile
from routewatch.collector.alerting.clock import Tick
from routewatch.collector.alerting.engine import Engine, EngineSettings
from routewatch.collector.alerting.otlp_build import PointSpec, metrics_request
from routewatch.collector.alerting.rules import RuleSet, decode_rule


def engine_for(rule: dict[str, Any], started_at: float = T0, **kw: Any) -> Engine:
    rules = RuleSet((decode_rule(rule, "rules[0]"),))
    return Engine(EngineSettings(rules=rules, **kw), None, started_at)


def reading(engine: Engine, now: float, key: tuple[object, ...] = ()) -> Any:
    (rw,) = engine.windows.values()
    return dict(rw.readings(now)).get(key)


SUM_RULE = {
    "alert": "Spend",
    "kind": "value",
    "metric": "cost",
    "by": [],
    "window": "5m",
    "thresholds": {"warning": "> 1000"},
}


def cost(
    t: float, value: float, instance: str, start: float = 1.0, temporality: Any = "cumulative"
) -> Any:
    return metrics_request(
        "cost",
        "sum",
        [PointSpec({"model": "m"}, t, start=start, value=value)],
        temporality,
        resource={"service.name": "app", "service.instance.id": instance},
    )


def test_histogram_quantile_interpolates_like_prometheus() -> None:
    bounds = (1.0, 2.0, math.inf)
    assert histogram_quantile(0.5, bounds, [10, 10, 0]) == 1.0
    assert histogram_quantile(0.75, bounds, [10, 10, 0]) == 1.5
    assert histogram_quantile(0.5, bounds, [0, 10, 0]) == 1.5  # first non-empty bucket
    assert histogram_quantile(0.9, bounds, [1, 0, 9]) == 2.0  # +Inf: highest finite bound
    assert histogram_quantile(0.0, bounds, [0, 4, 0]) == 1.0
    assert histogram_quantile(0.5, bounds, [0, 0, 0]) is None


def test_cumulative_sums_of_two_instances_merge_with_reset_detection() -> None:
    engine = engine_for(SUM_RULE)
    for req in (cost(T0 + 10, 100, "i1"), cost(T0 + 10, 50, "i2")):  # baselines
        engine.ingest(req, Tick(T0 + 10))
    engine.ingest(cost(T0 + 20, 130, "i1"), Tick(T0 + 20))  # +30
    engine.ingest(cost(T0 + 20, 55, "i2"), Tick(T0 + 20))  # +5
    engine.ingest(cost(T0 + 30, 7, "i1", start=25.0), Tick(T0 + 30))  # reset: +7
    assert reading(engine, T0 + 30).value == 42
    assert reading(engine, T0 + 30).samples == 5  # two baselines count as points


def test_a_stream_started_after_the_collector_counts_its_first_point() -> None:
    engine = engine_for(SUM_RULE)
    engine.ingest(cost(T0 + 10, 40, "new", start=T0 + 5), Tick(T0 + 10))
    assert reading(engine, T0 + 10).value == 40


def test_delta_points_are_increments() -> None:
    engine = engine_for({**SUM_RULE, "rate": True, "window": "100s"})
    for i in range(3):
        engine.ingest(cost(T0 + i, 10, "i1", temporality="delta"), Tick(T0 + i))
    assert reading(engine, T0 + 2).value == pytest.approx(0.3)  # 30 per 100 s
    assert reading(engine, T0 + 101).value == pytest.approx(0.1)  # two points left


def test_exponential_histogram_quantile() -> None:
    rule = {
        "alert": "Slow",
        "kind": "quantile",
        "metric": "d",
        "quantile": 0.5,
        "by": [],
        "thresholds": {"warning": "> 10"},
    }
    engine = engine_for(rule)
    point = PointSpec({}, T0, scale=0, offset=3, counts=[10])  # (8, 16]
    engine.ingest(metrics_request("d", "exponential_histogram", [point], "delta"), Tick(T0))
    assert reading(engine, T0).value == pytest.approx(12.0)
    engine.evaluate(Tick(T0))
    (st,) = engine.states.values()
    assert st.severity == "warning"


def test_out_of_order_points_leave_the_window_in_time_order() -> None:
    engine = engine_for({**SUM_RULE, "window": "60s"})
    engine.ingest(cost(T0 + 50, 5, "a", temporality="delta"), Tick(T0 + 50))
    engine.ingest(cost(T0 + 10, 7, "b", temporality="delta"), Tick(T0 + 50))
    assert reading(engine, T0 + 50).value == 12
    assert reading(engine, T0 + 75).value == 5


def test_stale_marker_ends_a_cumulative_stream() -> None:
    engine = engine_for(SUM_RULE)
    engine.ingest(cost(T0 + 1, 100, "i"), Tick(T0 + 1))
    stale = metrics_request(
        "cost",
        "sum",
        [PointSpec({"model": "m"}, T0 + 2, start=1.0, stale=True)],
        "cumulative",
        resource={"service.name": "app", "service.instance.id": "i"},
    )
    engine.ingest(stale, Tick(T0 + 2))
    engine.ingest(cost(T0 + 3, 150, "i"), Tick(T0 + 3))  # a new baseline, not +50
    assert reading(engine, T0 + 3).value == 0


def test_max_series_evicts_the_least_recently_updated() -> None:
    rule = {**SUM_RULE, "by": ["model"]}
    engine = engine_for(rule, max_series=2)
    for model in ("a", "b", "c"):
        req = metrics_request("cost", "sum", [PointSpec({"model": model}, T0, value=1)], "delta")
        engine.ingest(req, Tick(T0))
    (rw,) = engine.windows.values()
    assert list(rw.series) == [("b",), ("c",)]
    assert engine.evictions() == {"Spend": 1}


def test_absent_fires_per_series_that_went_quiet() -> None:
    rule = {"alert": "Gone", "kind": "absent", "metric": "cost", "by": ["model"], "window": "1m"}
    engine = engine_for(rule)
    for t, models in ((0, "ab"), (30, "ab"), (60, "a"), (95, "a")):
        for m in models:
            req = metrics_request(
                "cost", "sum", [PointSpec({"model": m}, T0 + t, value=1)], "delta"
            )
            engine.ingest(req, Tick(T0 + t))
        engine.evaluate(Tick(T0 + t))
    assert [st.labels for st in engine.firing()] == [{"alertname": "Gone", "model": "b"}]


async def test_alert_carries_the_five_slowest_exemplars_and_trace_links() -> None:
    clock, rec = engine_clock(), Recorder()
    cfg = latency_config(trace_url_template="http://jaeger:16686/trace/{trace_id}")
    conn = await started(cfg, clock, rec)
    traces = [f"{i:032x}" for i in range(1, 9)]
    exemplars = [(10.0 + i, t) for i, t in enumerate(traces)]
    await conn.consume(latency_batch(T0, [16.0] * 20, exemplars=exemplars))
    (alert,) = rec.take()
    slowest = tuple(reversed(traces))[:5]
    assert alert.exemplar_trace_ids == slowest
    links = {k: v for k, v in alert.annotations.items() if k.startswith("trace_url")}
    assert links == {
        "trace_url": f"http://jaeger:16686/trace/{slowest[0]}",
        **{f"trace_url_{i}": f"http://jaeger:16686/trace/{slowest[i - 1]}" for i in range(2, 6)},
    }
    await conn.shutdown()


async def test_success_rate_exemplars_are_failed_requests() -> None:
    rule = {
        "alert": "SuccessLow",
        "kind": "ratio",
        "numerator": {
            "metric": "hybrid_routing.request.duration",
            "where": {"hybrid_routing.outcome": "success"},
        },
        "denominator": {"metric": "hybrid_routing.request.duration"},
        "by": ["hybrid_routing.route"],
        "thresholds": {"critical": "< 0.85"},
    }
    clock, rec = engine_clock(), Recorder()
    conn = await started(latency_config(rules=[rule]), clock, rec)
    ok_trace = "1" * 32
    await conn.consume(latency_batch(T0, [1.0] * 5, exemplars=[(1.0, ok_trace)]))
    await conn.consume(latency_batch(T0, [1.0] * 5, outcome="error", exemplars=[(1.0, TRACE)]))
    (alert,) = rec.take()
    assert alert.value == 0.5 and alert.severity == "critical"
    assert alert.exemplar_trace_ids == (TRACE,)
    await conn.shutdown()


async def test_instances_merge_into_one_series_per_label_set() -> None:
    clock, rec = engine_clock(), Recorder()
    conn = await started(latency_config(rule={"min_samples": 20}), clock, rec)
    for i in range(2):  # 10 slow requests from each of two instances
        res = {"service.name": "app", "service.instance.id": f"i{i}", "host.name": f"h{i}"}
        await conn.consume(latency_batch(T0, [16.0] * 10, resource=res))
    (alert,) = rec.take()
    assert alert.labels == {"alertname": "RouteLatencyHigh", "hybrid_routing.route": "direct"}
    await conn.shutdown()


def test_out_of_range_exponential_scale_is_skipped_not_raised() -> None:
    rule = {
        "alert": "Slow",
        "kind": "quantile",
        "metric": "d",
        "quantile": 0.5,
        "by": [],
        "thresholds": {"warning": "> 10"},
    }
    engine = engine_for(rule)
    bad = PointSpec({}, T0, scale=-11, offset=3, counts=[10])
    good = PointSpec({}, T0, scale=0, offset=3, counts=[10])
    request = metrics_request("d", "exponential_histogram", [bad, good], "delta")
    engine.ingest(request, Tick(T0))
    assert engine.converter.invalid_points == 1
    assert reading(engine, T0).value == pytest.approx(12.0)


def test_a_histogram_point_too_large_to_sum_is_skipped_not_raised() -> None:
    engine = engine_for({**yaml.safe_load(LATENCY_RULE), "by": []})
    huge = PointSpec({}, T0, start=T0 - 10, bounds=[1.0], counts=[2**60, 0])
    fine = PointSpec({}, T0, start=T0 - 10, bounds=[1.0], counts=[0, 10])
    request = metrics_request("hybrid_routing.request.duration", "histogram", [huge, fine], "delta")
    engine.ingest(request, Tick(T0))
    assert engine.converter.invalid_points == 1
    assert reading(engine, T0).value == 1.0  # only `fine`: every observation above 1.0


def test_a_flooded_series_keeps_a_bounded_number_of_points() -> None:
    from routewatch.collector.alerting import windows

    engine = engine_for({**SUM_RULE, "window": "1h"})
    limit = windows.MAX_ENTRIES
    points = [PointSpec({"model": "m"}, T0 + i / 1000, value=1) for i in range(limit + 5)]
    engine.ingest(metrics_request("cost", "sum", points, "delta"), Tick(T0 + 20))
    (rw,) = engine.windows.values()
    assert len(rw.series[()].entries) == limit and rw.dropped_points == 5
    assert reading(engine, T0 + 20).value == limit


def test_cumulative_streams_count_right_when_the_label_set_cache_starts_over(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from routewatch.collector.alerting import series

    monkeypatch.setattr(series, "MAX_LABEL_SETS", 3)  # starts over every 3 label sets
    engine = engine_for({**SUM_RULE, "by": ["model"]})
    for t, value in ((10, 100.0), (20, 130.0), (30, 160.0)):
        points = [PointSpec({"model": f"m{i}"}, T0 + t, start=1.0, value=value) for i in range(7)]
        engine.ingest(metrics_request("cost", "sum", points, "cumulative"), Tick(T0 + t))
    (rw,) = engine.windows.values()
    readings = dict(rw.readings(T0 + 30))
    assert {key: r.value for key, r in readings.items()} == {(f"m{i}",): 60.0 for i in range(7)}


async def test_rules_on_one_metric_do_not_share_exemplar_choices() -> None:
    success = {
        "alert": "SuccessLow",
        "kind": "ratio",
        "numerator": {
            "metric": "hybrid_routing.request.duration",
            "where": {"hybrid_routing.outcome": "success"},
        },
        "denominator": {"metric": "hybrid_routing.request.duration"},
        "by": ["hybrid_routing.route"],
        "thresholds": {"critical": "< 2"},  # always fires
    }
    latency = {**yaml.safe_load(LATENCY_RULE), "thresholds": {"warning": "> 0"}}
    clock, rec = engine_clock(), Recorder()
    conn = await started(latency_config(rules=[success, latency]), clock, rec)
    await conn.consume(latency_batch(T0, [16.0] * 20, exemplars=[(16.0, TRACE)]))
    by_rule = {a.alertname: a.exemplar_trace_ids for a in rec.take()}
    assert by_rule == {"SuccessLow": (), "RouteLatencyHigh": (TRACE,)}
    await conn.shutdown()


def test_a_first_point_far_from_its_start_is_a_baseline_whatever_the_start() -> None:
    engine = engine_for(SUM_RULE)  # span 5m
    # An app whose clock is two hours ahead, running for an hour: its start looks later than
    # the collector's, but its point is an hour after that start: a baseline, not +500.
    engine.ingest(cost(T0 + 7210, 500, "skewed", start=T0 + 3600), Tick(T0 + 10))
    engine.ingest(cost(T0 + 10, 40, "fresh", start=T0 + 5), Tick(T0 + 10))  # counts in full
    assert reading(engine, T0 + 10).value == 40
