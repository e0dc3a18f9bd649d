"""The SDK reader's per-metric calls (`number_points`, `histogram_points`) give the same events,
byte for byte, as the per-point methods (`sum`, `gauge`, `histogram`) fed point by point —
over exports that mix points for the loop's shortcut with points it hands on (exemplars,
unsendable values, no min/max, other bounds, equal bounds in new objects, attribute mappings
not seen before) and cumulative series through the delta state."""

from __future__ import annotations

import math
import random
from typing import Any

from emf_validator import validate
from opentelemetry.sdk.metrics import Exemplar
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    Gauge,
    Histogram,
    HistogramDataPoint,
    Metric,
    MetricsData,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
    Sum,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from routewatch.exporters.emf import EmfConfig, EmfEncoder, read_sdk_metrics
from routewatch.exporters.emf.encode import EmfBatch
from routewatch.exporters.emf.sdk_reader import STABLE_ATTRIBUTES

BOUNDS = [0.1, 0.5, 1.0, 5.0]
OTHER_BOUNDS = [1.0, 2.0]
SHIFTED_BOUNDS = [0.2, 0.6, 2.0, 6.0]  # as many buckets as BOUNDS
CUMULATIVE = AggregationTemporality.CUMULATIVE
DELTA = AggregationTemporality.DELTA
# attribute mappings that recur export after export, as the SDK's aggregations keep them
ATTRS = [{"route": r, "shard": str(i)} for i, r in enumerate(["direct", "mcp", "cache"] * 3)]
EXEMPLAR = Exemplar({}, 1.0, 1, span_id=7, trace_id=0xABC)


def number(rnd: random.Random, i: int, ts: int, level: float) -> NumberDataPoint:
    attrs = ATTRS[i] if i % 4 else {"route": "new", "shard": str(i)}  # some not seen before
    value: float = level + rnd.randint(0, 5)
    if i == 5:
        value = rnd.choice([math.nan, math.inf, 1e-200, 2.0**70])
    exemplars = [EXEMPLAR] if i == 3 else []
    return NumberDataPoint(attrs, 0, ts, value, exemplars)


def histogram(rnd: random.Random, i: int, ts: int, scale: int) -> HistogramDataPoint:
    """`scale` > 0: cumulative, `scale` times the same increments (the same per `i`)."""
    # the SDK gives each series its own tuple of the bounds: equal, not the same object
    bounds = {0: SHIFTED_BOUNDS, 2: OTHER_BOUNDS}.get(i, tuple(BOUNDS) if i % 3 == 1 else BOUNDS)
    source = random.Random(i) if scale else rnd
    counts = [source.randint(0, 3) * max(scale, 1) for _ in range(len(bounds) + 1)]
    count = sum(counts)
    vmin: float | None = 0.05
    vmax: float | None = 7.0
    if i == 4:
        vmin = vmax = None
    if i == 6:
        vmin = math.inf  # the SDK's "no data"
    exemplars = [EXEMPLAR] if i == 7 else []
    attrs = ATTRS[i] if i != 8 else {"route": "other"}
    return HistogramDataPoint(
        attrs, 0, ts, count, 3.5 * count, counts, bounds, vmin, vmax, exemplars
    )


def data(round_: int) -> MetricsData:
    rnd = random.Random(round_)
    ts = 10**18 + round_ * 60 * 10**9
    n = len(ATTRS)
    metrics: list[Metric] = [
        Metric("c_delta", None, "1", Sum([number(rnd, i, ts, 1) for i in range(n)], DELTA, True)),
        Metric(
            "c_cumulative",
            None,
            "1",
            Sum([number(rnd, i, ts, 100 * round_) for i in range(n)], CUMULATIVE, True),
        ),
        Metric(
            "updown", None, "1", Sum([number(rnd, i, ts, -3) for i in range(n)], CUMULATIVE, False)
        ),
        Metric("level", None, "1", Gauge([number(rnd, i, ts, 0.5) for i in range(n)])),
        Metric(
            "h_delta", None, "s", Histogram([histogram(rnd, i, ts, 0) for i in range(n)], DELTA)
        ),
        Metric(
            "h_cumulative",
            None,
            "s",
            Histogram([histogram(rnd, i, ts, round_ + 1) for i in range(n)], CUMULATIVE),
        ),
    ]
    scope = ScopeMetrics(InstrumentationScope("t"), metrics, "")
    return MetricsData([ResourceMetrics(Resource({"service.name": "router"}), [scope], "")])


def trace_ids(exemplars: Any) -> list[str] | None:
    ids = [format(e.trace_id, "032x") for e in exemplars if e.trace_id]
    return ids or None


def point_by_point(batch: EmfBatch, md: MetricsData) -> None:
    """The reference: the per-point methods, as the reader called them before."""
    for rm in md.resource_metrics:
        batch.resource(rm.resource.attributes)
        for metric in rm.scope_metrics[0].metrics:
            d: Any = metric.data
            if isinstance(d, Sum) and d.is_monotonic:
                info = batch.metric(metric.name, metric.unit, counter=True)
                for p in d.data_points:
                    cumulative = d.aggregation_temporality == CUMULATIVE
                    ids = trace_ids(p.exemplars)
                    start, ts = p.start_time_unix_nano, p.time_unix_nano
                    batch.sum(info, p.attributes, start, ts, p.value, cumulative, ids)
            elif isinstance(d, Gauge | Sum):
                info = batch.metric(metric.name, metric.unit)
                for p in d.data_points:
                    ids = trace_ids(p.exemplars)
                    batch.gauge(info, p.attributes, p.time_unix_nano, p.value, ids)
            else:
                info = batch.metric(metric.name, metric.unit)
                for h in d.data_points:
                    batch.histogram(
                        info,
                        h.attributes,
                        h.start_time_unix_nano,
                        h.time_unix_nano,
                        h.count,
                        h.sum,
                        h.min,
                        h.max,
                        h.explicit_bounds,
                        h.bucket_counts,
                        d.aggregation_temporality == CUMULATIVE,
                        trace_ids(h.exemplars),
                    )


def test_per_metric_calls_match_the_per_point_methods() -> None:
    config = EmfConfig(namespace="Test")
    ours, reference = EmfEncoder(config), EmfEncoder(config)
    for round_ in range(4):
        md = data(round_)
        batch = ours.batch(stable_attributes=STABLE_ATTRIBUTES)
        read_sdk_metrics(batch, md)
        expected = reference.batch(stable_attributes=STABLE_ATTRIBUTES)
        point_by_point(expected, md)
        got, want = batch.events(), expected.events()
        assert got == want
        events = [m for evs in got.values() for _, m in evs]
        assert events, "every round sends something"
        for m in events:
            validate(m)
    assert ours.stats.snapshot() == reference.stats.snapshot()
    # the shortcut was taken: the recurring mappings are known by identity
    assert all(id(ATTRS[i]) in ours.by_identity for i in (1, 2, 3, 5, 6, 7))
