"""Property tests: generated metrics of every type, temporality and attribute shape go through
both readers; every event is valid EMF (independent validator) and the values add back up to
the input per series."""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import orjson
from emf_validator import metric_names, validate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.exporter.otlp.proto.common._internal.metrics_encoder import encode_metrics
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    Buckets,
    ExponentialHistogram,
    ExponentialHistogramDataPoint,
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

from routewatch.exporters.emf import EmfConfig, EmfEncoder, read_otlp_metrics, read_sdk_metrics

KINDS = [
    "gauge",
    "sum_delta",
    "sum_cumulative",
    "updown",
    "hist_delta",
    "hist_cumulative",
    "exp_delta",
    "exp_cumulative",
]
DELTA = AggregationTemporality.DELTA
CUMULATIVE = AggregationTemporality.CUMULATIVE
BASE_NS = 1_700_000_000_000_000_000
START_NS = BASE_NS - 10**9

# Attribute values whose EMF text forms are all distinct (so series never merge).
ATTR_VALUES: list[Any] = [
    "direct",
    "mcp",
    "cache",
    "héllo",  # non-ASCII: written with `_` for each non-ASCII character
    "日本",
    "",  # empty: a property, not a dimension
    7,
    -3,
    True,
    2.5,
    ["a", "b"],
    "x" * 1100,  # too long for a dimension value
]


def expected_text(value: Any) -> str:
    """The dimension text the spec of routewatch's EMF output promises for a value."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int):
        text = str(value)
    elif isinstance(value, float):
        text = repr(value)
    elif isinstance(value, list):
        text = "[" + ",".join(f'"{v}"' for v in value) + "]"
    else:
        text = value
    return "".join(c if ord(c) < 128 else "_" for c in text)


@dataclass
class Series:
    attrs: dict[str, Any]
    # per export step: a number, or a list of observations (histograms)
    steps: list[Any]


@dataclass
class Spec:
    name: str
    kind: str
    unit: str
    series: list[Series] = field(default_factory=list)
    bounds: list[float] = field(default_factory=list)
    scale: int = 0


def _sendable(v: float) -> float:
    # Magnitudes below EMF's minimum are written as 0 (tested on their own elsewhere).
    return 0.0 if abs(v) < 1e-100 else v


finite = st.floats(min_value=-1e6, max_value=1e6).map(_sendable)
observation = st.one_of(
    st.floats(min_value=-2000, max_value=2000).map(_sendable),
    st.floats(min_value=1e-3, max_value=1e3),
    st.just(0.0),
)


@st.composite
def attr_sets(draw: st.DrawFn, n: int) -> list[dict[str, Any]]:
    """n distinct attribute sets of 0..35 keys."""
    out: list[dict[str, Any]] = []
    seen: set[tuple[tuple[str, str], ...]] = set()
    for _ in range(n):
        width = draw(st.sampled_from([0, 1, 3, 30, 31, 35]))
        attrs = {f"k{i:02d}": draw(st.sampled_from(ATTR_VALUES)) for i in range(width)}
        key = tuple(sorted((k, expected_text(v)) for k, v in attrs.items()))
        if key not in seen:
            seen.add(key)
            out.append(attrs)
    return out


@st.composite
def specs(draw: st.DrawFn) -> tuple[list[Spec], int]:
    steps = draw(st.integers(min_value=1, max_value=3))
    n_metrics = draw(st.integers(min_value=1, max_value=6))
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=n_metrics, max_size=n_metrics))
    result = []
    for i, kind in enumerate(kinds):
        spec = Spec(
            name=f"m{i}.{kind}",
            kind=kind,
            unit=draw(st.sampled_from(["s", "ms", "By", "1", "{token}", "USD", ""])),
        )
        if kind.startswith("hist"):
            spec.bounds = sorted(
                set(draw(st.lists(st.floats(-1000, 1000).map(_sendable), max_size=130)))
            )
        if kind.startswith("exp"):
            spec.scale = draw(st.integers(min_value=0, max_value=4))
        for attrs in draw(attr_sets(draw(st.integers(min_value=1, max_value=3)))):
            if kind in ("gauge", "updown"):
                values = draw(st.lists(finite, min_size=steps, max_size=steps))
            elif kind.startswith("sum"):
                values = draw(st.lists(st.integers(0, 10**6), min_size=steps, max_size=steps))
            else:
                values = [
                    draw(st.lists(observation, min_size=1, max_size=200)) for _ in range(steps)
                ]
            spec.series.append(Series(attrs, values))
        result.append(spec)
    return result, steps


# -- building SDK data from specs (the OTLP request is built from it by upstream's encoder) -----


def explicit_point(attrs: dict[str, Any], bounds: list[float], obs: list[float], ts: int) -> Any:
    counts = [0] * (len(bounds) + 1)
    for v in obs:
        counts[bisect.bisect_left(bounds, v)] += 1
    return HistogramDataPoint(
        attributes=attrs,
        start_time_unix_nano=START_NS,
        time_unix_nano=ts,
        count=len(obs),
        sum=math.fsum(obs),
        bucket_counts=counts,
        explicit_bounds=bounds,
        min=min(obs),
        max=max(obs),
    )


def exp_index(v: float, scale: int) -> int:
    return math.ceil(math.log2(abs(v)) * 2**scale) - 1


def exp_buckets(values: list[int]) -> Buckets:
    if not values:
        return Buckets(offset=0, bucket_counts=[])
    lo, hi = min(values), max(values)
    counts = [0] * (hi - lo + 1)
    for i in values:
        counts[i - lo] += 1
    return Buckets(offset=lo, bucket_counts=counts)


def exp_point(attrs: dict[str, Any], scale: int, obs: list[float], ts: int) -> Any:
    return ExponentialHistogramDataPoint(
        attributes=attrs,
        start_time_unix_nano=START_NS,
        time_unix_nano=ts,
        count=len(obs),
        sum=math.fsum(obs),
        scale=scale,
        zero_count=sum(1 for v in obs if v == 0),
        positive=exp_buckets([exp_index(v, scale) for v in obs if v > 0]),
        negative=exp_buckets([exp_index(v, scale) for v in obs if v < 0]),
        flags=0,
        min=min(obs),
        max=max(obs),
    )


def metrics_data(specs: list[Spec], step: int) -> MetricsData:
    ts = BASE_NS + step * 10**9
    metrics = []
    for spec in specs:
        cumulative = spec.kind.endswith("cumulative") or spec.kind == "updown"
        points: list[Any] = []
        for s in spec.series:
            if spec.kind in ("gauge", "updown", "sum_delta"):
                value = s.steps[step]
            elif spec.kind == "sum_cumulative":
                value = sum(s.steps[: step + 1])
            if spec.kind in ("gauge", "updown", "sum_delta", "sum_cumulative"):
                points.append(NumberDataPoint(s.attrs, START_NS, ts, value))
                continue
            obs = [v for o in s.steps[: step + 1] for v in o] if cumulative else s.steps[step]
            if spec.kind.startswith("hist"):
                points.append(explicit_point(s.attrs, spec.bounds, obs, ts))
            else:
                points.append(exp_point(s.attrs, spec.scale, obs, ts))
        temporality = CUMULATIVE if cumulative else DELTA
        data: Any
        if spec.kind == "gauge":
            data = Gauge(points)
        elif spec.kind == "updown":
            data = Sum(points, temporality, is_monotonic=False)
        elif spec.kind.startswith("sum"):
            data = Sum(points, temporality, is_monotonic=True)
        elif spec.kind.startswith("hist"):
            data = Histogram(points, temporality)
        else:
            data = ExponentialHistogram(points, temporality)
        metrics.append(Metric(spec.name, None, spec.unit, data))
    scope = ScopeMetrics(InstrumentationScope("test"), metrics, "")
    return MetricsData([ResourceMetrics(Resource({"service.name": "prop"}), [scope], "")])


# -- summing the output up per series -----------------------------------------------------------


def series_key(name: str, root: dict[str, Any], names: set[str]) -> tuple[str, Any]:
    attrs = {k: v for k, v in root.items() if k not in names and k not in ("_aws", "traceIds")}
    return name, tuple(sorted(attrs.items()))


def expected_key(name: str, attrs: dict[str, Any]) -> tuple[str, Any]:
    return name, tuple(sorted((k, expected_text(v)) for k, v in attrs.items()))


def run(reader: str, specs: list[Spec], steps: int) -> list[bytes]:
    encoder = EmfEncoder(EmfConfig(namespace="Prop", retain_initial_value_of_delta_metric=True))
    out: list[bytes] = []
    for step in range(steps):
        data = metrics_data(specs, step)
        batch = encoder.batch(stable_attributes=True)  # as the exporters do
        if reader == "sdk":
            read_sdk_metrics(batch, data)
        else:
            request = encode_metrics(data)
            read_otlp_metrics(batch, request)
        for events in batch.events().values():
            out.extend(m for _, m in events)
    return out


def totals(messages: list[bytes]) -> dict[tuple[str, Any], dict[str, Any]]:
    acc: dict[tuple[str, Any], dict[str, Any]] = defaultdict(
        lambda: {"n": 0, "sum": 0.0, "count": 0, "min": math.inf, "max": -math.inf}
    )
    for message in messages:
        root = validate(message)
        names = metric_names(root)
        for name in names:
            entry = acc[series_key(name, root, names)]
            value = root[name]
            if isinstance(value, dict):
                entry["count"] += value["Count"]
                entry["sum"] += value["Sum"]
                entry["min"] = min(entry["min"], value["Min"])
                entry["max"] = max(entry["max"], value["Max"])
                assert sum(value["Counts"]) == value["Count"]
            else:
                entry["n"] += 1
                entry["sum"] += value
    return acc


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6 * max(1.0, abs(b)))


def check(specs: list[Spec], steps: int, got: dict[tuple[str, Any], dict[str, Any]]) -> None:
    expected_keys = set()
    for spec in specs:
        for s in spec.series:
            key = expected_key(spec.name, s.attrs)
            expected_keys.add(key)
            entry = got.get(key)
            assert entry is not None, f"series {key} missing"
            if spec.kind in ("gauge", "updown"):
                assert entry["n"] == steps
                assert close(entry["sum"], math.fsum(s.steps))
            elif spec.kind.startswith("sum"):
                # delta: every delta; cumulative (first value retained): the last total
                assert close(entry["sum"], sum(s.steps))
            else:
                obs = [v for o in s.steps for v in o]
                assert entry["count"] == len(obs)
                assert close(entry["sum"], math.fsum(obs))
                if spec.kind.endswith("delta"):
                    assert entry["min"] == min(obs)
                    assert entry["max"] == max(obs)
                else:
                    assert entry["min"] >= min(obs) and entry["max"] <= max(obs)
    assert set(got) == expected_keys


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(specs())
def test_every_event_is_valid_emf_and_adds_up(generated: tuple[list[Spec], int]) -> None:
    specs_, steps = generated
    sdk = run("sdk", specs_, steps)
    otlp = run("otlp", specs_, steps)
    check(specs_, steps, totals(sdk))
    check(specs_, steps, totals(otlp))
    # both readers produce the same events
    assert sorted(map(orjson.loads, sdk), key=orjson.dumps) == sorted(
        map(orjson.loads, otlp), key=orjson.dumps
    )
