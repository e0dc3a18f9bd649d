"""OTLP metric points as increments ("observations") for the rule windows.

Delta points are increments already. Cumulative points are turned into increments per stream
(resource + scope + metric + point attributes, so each app instance has its own stream) by
subtracting the stream's previous point; a reset (new start time, a count going down, changed
bucket layout) counts the new point in full. The first point of a cumulative stream counts in
full only when the stream started after this converter did (`start_time >= started_at`, and
at most `max_age` before the point); otherwise it is the baseline, as Prometheus' `increase()`
treats a counter's first sample, so a collector restart does not read an app's whole history
as a spike.

Histograms (explicit and exponential) become (bounds, counts) pairs, and for the metrics whose
buckets a rule reads, (bounds, packed cumulative counts) (see `buckets.py`).

Labels are built once per label set (resource attributes + point attributes), not per point:
every observation of a label set shares one `LabelSet`, whose `memo` lets each rule keep what
it derived from the labels (its series key, whether its filters match).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Container, Iterable, Iterator, Sequence
from dataclasses import dataclass
from operator import sub
from typing import Any, Literal

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    AGGREGATION_TEMPORALITY_CUMULATIVE,
    DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK,
    Exemplar,
    ExponentialHistogramDataPoint,
    HistogramDataPoint,
)

from routewatch.collector.alerting.buckets import pack_cumulative

ObservationKind = Literal["histogram", "sum", "gauge"]
# A histogram as (upper bounds ascending, counts per bucket). Exponential buckets also list
# each bucket's lower bound (with count 0) so that interpolation stays inside the bucket.
Hist = tuple[tuple[float, ...], tuple[int, ...]]
INF = math.inf
# Label sets remembered (each under 1 KiB); beyond this the cache starts over, and points cost
# what they did without it until their label sets are seen again.
MAX_LABEL_SETS = 50_000
EMPTY_HIST: Hist = ((), ())
MAX_EXEMPLARS = 5

# Resource attributes that tell app instances apart: dropped from a series' labels so that
# several instances of one app merge into one series per label set.
INSTANCE_ATTRIBUTES = frozenset(
    {
        "service.instance.id",
        "k8s.pod.name",
        "k8s.pod.uid",
        "k8s.pod.ip",
        "cloud.resource_id",
        "faas.instance",
        "aws.ecs.task.arn",
        "aws.ecs.task.id",
    }
)
INSTANCE_ATTRIBUTE_PREFIXES = ("host.", "process.", "container.", "telemetry.")


def is_instance_attribute(key: str) -> bool:
    return key in INSTANCE_ATTRIBUTES or key.startswith(INSTANCE_ATTRIBUTE_PREFIXES)


AttributeItems = tuple[tuple[str, str], ...]


@dataclass(slots=True)
class LabelSet:
    labels: dict[str, str]  # resource attributes overlaid by point attributes; read-only
    stream: AttributeItems  # the point attributes, sorted: part of a cumulative stream's key
    memo: dict[object, Any]  # per rule target: what it derived from `labels` (its Route)


@dataclass(slots=True)
class Observation:
    metric: str
    label_set: LabelSet
    time: float  # epoch seconds
    kind: ObservationKind
    amount: float  # histogram: observation count; sum: increment; gauge: the value
    # (bounds, packed cumulative counts) when a rule reads the metric's buckets, else None
    hist: tuple[tuple[float, ...], int] | None = None
    exemplars: tuple[tuple[float, str], ...] = ()  # (value, trace id hex)

    @property
    def labels(self) -> dict[str, str]:
        return self.label_set.labels


def any_value_text(value: AnyValue) -> str:
    which = value.WhichOneof("value")
    if which == "string_value":
        return value.string_value
    if which == "bool_value":
        return "true" if value.bool_value else "false"
    if which == "int_value":
        return str(value.int_value)
    if which == "double_value":
        return repr(value.double_value)
    if which == "bytes_value":
        return value.bytes_value.hex()
    return ""


def attribute_items(kvs: Iterable[KeyValue]) -> AttributeItems:
    # string_value first: nearly every attribute is a string, and WhichOneof costs more.
    return tuple([(kv.key, kv.value.string_value or any_value_text(kv.value)) for kv in kvs])


def _exemplars(items: Sequence[Exemplar]) -> tuple[tuple[float, str], ...]:
    if not items:
        return ()
    out = []
    for ex in items:
        if not ex.trace_id:
            continue
        value = ex.as_double if ex.WhichOneof("value") == "as_double" else float(ex.as_int)
        out.append((value, ex.trace_id.hex()))
    out.sort(reverse=True)
    return tuple(out[:MAX_EXEMPLARS])


def explicit_buckets(point: HistogramDataPoint) -> Hist:
    # Counts stay ints: small ones are shared objects, which keeps a window's points small.
    counts = tuple(point.bucket_counts)
    bounds = (*point.explicit_bounds, INF)
    if len(counts) != len(bounds):  # no buckets recorded: only the count is known
        return (INF,), (point.count,)
    return bounds, counts


def exponential_buckets(point: ExponentialHistogramDataPoint) -> Hist:
    base = 2.0 ** (2.0**-point.scale)
    out: dict[float, int] = {}
    if point.zero_count:
        out[point.zero_threshold] = point.zero_count
    for index, count in enumerate(point.positive.bucket_counts, start=point.positive.offset):
        if count:
            lower, upper = base**index, base ** (index + 1)
            out.setdefault(lower, 0)
            out[upper] = out.get(upper, 0) + count
    for index, count in enumerate(point.negative.bucket_counts, start=point.negative.offset):
        if count:
            lower, upper = -(base ** (index + 1)), -(base**index)
            out.setdefault(lower, 0)
            out[upper] = out.get(upper, 0) + count
    bounds = tuple(sorted(out))
    return bounds, tuple(out[b] for b in bounds)


@dataclass(slots=True)
class _Last:
    start: int
    amount: float
    hist: Hist | None


def _increment(
    last: _Last | None, start: int, amount: float, hist: Hist | None, counts_full: bool
) -> tuple[float, Hist | None]:
    """Increment from `last` to this cumulative point (zero when it is only the baseline: the
    point still shows that the series is there, which `absent` rules need)."""
    if last is None:
        if counts_full:
            return amount, hist
        return 0.0, (EMPTY_HIST if hist is not None else None)
    if start != last.start or amount < last.amount:
        return amount, hist  # reset
    if hist is None:
        return amount - last.amount, None
    prev = last.hist
    if prev is None or (prev[0] is not hist[0] and prev[0] != hist[0]):
        return amount, hist  # bucket layout changed: a new stream
    delta = tuple(map(sub, hist[1], prev[1]))
    if delta and min(delta) < 0:
        return amount, hist
    return amount - last.amount, (hist[0], delta)


class Converter:
    """Turns OTLP metric requests into observations; holds cumulative stream state and the
    label sets seen."""

    def __init__(
        self, started_at: float, max_age: float = 3600.0, max_streams: int = 200_000
    ) -> None:
        # resource attributes (wire order) -> point attributes (wire order) -> label set
        self._label_sets: dict[AttributeItems, dict[AttributeItems, LabelSet]] = {}
        self._label_set_count = 0
        self.started_at_nanos = int(started_at * 1e9)
        # A first point older than this (since its stream's start) is a baseline even when
        # the start looks later than ours: an app clock ahead must not replay its history.
        self.max_age_nanos = int(max_age * 1e9)
        self.max_streams = max_streams
        self._last: OrderedDict[tuple[object, ...], _Last] = OrderedDict()
        self.evicted_streams = 0
        self.invalid_points = 0
        # One tuple per bucket layout, so windows can compare layouts with `is`.
        self._layouts: dict[tuple[float, ...], tuple[float, ...]] = {}

    def _intern(self, hist: Hist) -> Hist:
        bounds = self._layouts.get(hist[0])
        if bounds is None:
            if len(self._layouts) > 10_000:
                self._layouts.clear()
            bounds = self._layouts[hist[0]] = hist[0]
        return bounds, hist[1]

    def _cumulative(
        self,
        key: tuple[object, ...],
        start: int,
        time: int,
        amount: float,
        hist: Hist | None,
    ) -> tuple[float, Hist | None]:
        last = self._last.get(key)
        counts_full = (
            start != 0 and start >= self.started_at_nanos and time - start <= self.max_age_nanos
        )
        result = _increment(last, start, amount, hist, counts_full)
        self._last[key] = _Last(start, amount, hist)
        self._last.move_to_end(key)
        if len(self._last) > self.max_streams:
            self._last.popitem(last=False)
            self.evicted_streams += 1
        return result

    def _label_sets_of(self, resource: AttributeItems) -> dict[AttributeItems, LabelSet]:
        found = self._label_sets.get(resource)
        if found is None:
            found = self._label_sets[resource] = {}
        return found

    def _label_set(
        self, sets: dict[AttributeItems, LabelSet], resource: AttributeItems, point: AttributeItems
    ) -> LabelSet:
        if self._label_set_count >= MAX_LABEL_SETS:  # start over: only a cache
            self._label_sets.clear()
            self._label_set_count = 0
            sets = self._label_sets_of(resource)
        found = sets[point] = LabelSet({**dict(resource), **dict(point)}, tuple(sorted(point)), {})
        self._label_set_count += 1
        return found

    def observations(
        self,
        request: ExportMetricsServiceRequest,
        wanted: Container[str],
        buckets: Container[str] = (),
    ) -> Iterator[Observation]:
        """The observations of the metrics in `wanted`; histograms of those in `buckets` carry
        their packed bucket counts."""
        for rm in request.resource_metrics:
            resource: AttributeItems | None = None
            for sm in rm.scope_metrics:
                for metric in sm.metrics:
                    if metric.name not in wanted:
                        continue
                    if resource is None:
                        resource = attribute_items(rm.resource.attributes)
                    yield from self._metric(metric, resource, sm.scope.name, metric.name in buckets)

    def _metric(
        self, metric: object, resource: AttributeItems, scope: str, packed: bool
    ) -> Iterator[Observation]:
        which = metric.WhichOneof("data")  # type: ignore[attr-defined]
        name: str = metric.name  # type: ignore[attr-defined]
        sets = self._label_sets_of(resource)
        if which == "gauge":
            for p in metric.gauge.data_points:  # type: ignore[attr-defined]
                if p.flags & DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK:
                    continue
                value = p.as_double if p.WhichOneof("value") == "as_double" else float(p.as_int)
                items = attribute_items(p.attributes)
                ls = sets.get(items) or self._label_set(sets, resource, items)
                yield Observation(name, ls, p.time_unix_nano / 1e9, "gauge", value)
            return
        if which == "sum":
            data = metric.sum  # type: ignore[attr-defined]
        elif which == "histogram":
            data = metric.histogram  # type: ignore[attr-defined]
        elif which == "exponential_histogram":
            data = metric.exponential_histogram  # type: ignore[attr-defined]
        else:
            return  # summaries carry no buckets to merge: not evaluated
        cumulative = data.aggregation_temporality == AGGREGATION_TEMPORALITY_CUMULATIVE
        resource_sorted = tuple(sorted(resource)) if cumulative else ()
        for p in data.data_points:
            items = attribute_items(p.attributes)
            ls = sets.get(items) or self._label_set(sets, resource, items)
            if p.flags & DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK:
                if cumulative:  # a stale marker ends the stream
                    self._last.pop((resource_sorted, scope, name, ls.stream), None)
                continue
            hist: Hist | None
            if which == "sum":
                amount = p.as_double if p.WhichOneof("value") == "as_double" else float(p.as_int)
                hist, kind = None, "sum"
            else:
                amount = float(p.count)
                kind = "histogram"
                try:
                    hist = self._intern(
                        explicit_buckets(p) if which == "histogram" else exponential_buckets(p)
                    )
                except (OverflowError, ValueError):  # e.g. a scale far out of range
                    self.invalid_points += 1
                    continue
            if cumulative:
                amount, hist = self._cumulative(
                    (resource_sorted, scope, name, ls.stream),
                    p.start_time_unix_nano,
                    p.time_unix_nano,
                    amount,
                    hist,
                )
            packed_hist = None
            if packed and hist is not None:
                try:
                    packed_hist = (hist[0], pack_cumulative(hist[1]))
                except (OverflowError, ValueError):  # more than a window can sum
                    self.invalid_points += 1
                    continue
            yield Observation(
                name,
                ls,
                p.time_unix_nano / 1e9,
                kind,  # type: ignore[arg-type]
                amount,
                packed_hist,
                _exemplars(p.exemplars),
            )
