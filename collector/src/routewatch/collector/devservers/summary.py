"""Readable text summaries of OTLP traces and metrics (what the demo prints).

Traces become span trees (route -> attempts -> model or tool call) with durations and the
attributes that matter for routing; metrics become one line per metric with a breakdown by
attribute set. Works on whatever arrives: no routewatch span at all is a valid input.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1.metrics_pb2 import AggregationTemporality, Metric
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

# Attributes shown next to a span (prefix match), in this order.
_SPAN_KEYS = (
    "hybrid_routing.",
    "gen_ai.operation.name",
    "gen_ai.request.model",
    "gen_ai.usage.",
    "gen_ai.response.finish_reasons",
    "gen_ai.tool.name",
    "mcp.method.name",
    "error.type",
)
_KIND = {1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}


def _value(value: AnyValue) -> Any:
    which = value.WhichOneof("value")
    if which == "array_value":
        return [_value(v) for v in value.array_value.values]
    if which == "kvlist_value":
        return {kv.key: _value(kv.value) for kv in value.kvlist_value.values}
    return getattr(value, which) if which else None


def attributes(kvs: Iterable[KeyValue]) -> dict[str, Any]:
    return {kv.key: _value(kv.value) for kv in kvs}


def _shown(attrs: dict[str, Any], keys: Sequence[str]) -> str:
    parts = [
        f"{key}={attrs[key]}"
        for prefix in keys
        for key in sorted(attrs)
        if key == prefix or (prefix.endswith(".") and key.startswith(prefix))
    ]
    return " ".join(dict.fromkeys(parts))


def _span_line(span: Span, depth: int) -> str:
    duration_ms = (span.end_time_unix_nano - span.start_time_unix_nano) / 1e6
    status = " ERROR" if span.status.code == Status.STATUS_CODE_ERROR else ""
    detail = _shown(attributes(span.attributes), _SPAN_KEYS)
    kind = _KIND.get(span.kind, "unspecified")
    line = f"{'  ' * depth}- {span.name} [{kind}] {duration_ms:.1f} ms{status}"
    return f"{line}  {detail}" if detail else line


def _tree(spans: list[Span]) -> list[str]:
    ids = {s.span_id for s in spans}
    children: dict[bytes, list[Span]] = defaultdict(list)
    roots: list[Span] = []
    for span in sorted(spans, key=lambda s: s.start_time_unix_nano):
        if span.parent_span_id and span.parent_span_id in ids:
            children[span.parent_span_id].append(span)
        else:
            roots.append(span)
    lines: list[str] = []

    def walk(span: Span, depth: int) -> None:
        lines.append(_span_line(span, depth))
        for child in children.get(span.span_id, []):
            walk(child, depth + 1)

    for root in roots:
        walk(root, 0)
    return lines


def _shape(spans: list[Span]) -> tuple[str, ...]:
    """What makes two traces look alike: span names without their target (`chat`, not
    `chat <model>`; span names are `{operation} {target}`), routes and error statuses."""
    return tuple(
        sorted(
            f"{s.name.rsplit(' ', 1)[0]}|{attributes(s.attributes).get('hybrid_routing.route', '')}"
            f"|{s.status.code == Status.STATUS_CODE_ERROR}"
            for s in spans
        )
    )


def render_traces(spans: Sequence[tuple[Resource, Span]], max_trees: int = 6) -> list[str]:
    """A count by span name, then up to `max_trees` span trees of different shapes, routed
    requests and failed ones first."""
    if not spans:
        return ["traces: none received"]
    traces: dict[bytes, list[Span]] = defaultdict(list)
    for _, span in spans:
        traces[span.trace_id].append(span)
    by_name: dict[str, int] = defaultdict(int)
    for _, span in spans:
        by_name[span.name] += 1
    route_spans = sum(n for name, n in by_name.items() if name.startswith("route "))
    lines = [f"traces: {len(traces)} traces, {len(spans)} spans, {route_spans} route spans"]
    lines += [
        f"  {n:5d} x {name}" for name, n in sorted(by_name.items(), key=lambda i: (-i[1], i[0]))
    ]

    def rank(trace: list[Span]) -> tuple[int, int, int]:
        routed = any(s.name.startswith("route ") for s in trace)
        failed = any(s.status.code == Status.STATUS_CODE_ERROR for s in trace)
        return (-routed, -failed, min(s.start_time_unix_nano for s in trace))

    seen: set[tuple[str, ...]] = set()
    shown = 0
    for trace in sorted(traces.values(), key=rank):
        shape = _shape(trace)
        if shape in seen:
            continue
        seen.add(shape)
        lines.append(f"trace {trace[0].trace_id.hex()}:")
        lines += ["  " + line for line in _tree(trace)]
        shown += 1
        if shown >= max_trees:
            break
    return lines


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def render_routes(spans: Sequence[tuple[Resource, Span]]) -> list[str]:
    """Routed requests per route (from the `route {operation}` spans): count, errors, p50 and
    p95 latency. Empty when no route span arrived."""
    durations: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    for _, span in spans:
        if not span.name.startswith("route "):
            continue
        attrs = attributes(span.attributes)
        route = str(attrs.get("hybrid_routing.route", "unknown"))
        durations[route].append((span.end_time_unix_nano - span.start_time_unix_nano) / 1e9)
        failed = span.status.code == Status.STATUS_CODE_ERROR
        errors[route] += failed or attrs.get("hybrid_routing.outcome") == "error"
    if not durations:
        return []
    total = sum(len(v) for v in durations.values())
    lines = [f"routes: {total} routed requests"]
    for route in sorted(durations, key=lambda r: -len(durations[r])):
        values = durations[route]
        p50 = sorted(values)[(len(values) - 1) // 2]
        lines.append(
            f"  {route:<9} {len(values):5d} requests  {errors[route]:3d} errors  "
            f"p50 {p50 * 1000:8.1f} ms  p95 {_p95(values) * 1000:8.1f} ms"
        )
    return lines


def _points(metric: Metric) -> tuple[str, Sequence[Any], int]:
    which = metric.WhichOneof("data")
    data = getattr(metric, which) if which else None
    if data is None:
        return "unknown", [], 0
    temporality = getattr(data, "aggregation_temporality", 0)
    return which or "unknown", list(data.data_points), temporality


def _point_value(kind: str, point: Any) -> tuple[float, float]:
    """(count, total): histograms count and sum; sums and gauges their value (count 1)."""
    if kind in ("histogram", "exponential_histogram"):
        return float(point.count), float(point.sum)
    value = point.as_double if point.WhichOneof("value") == "as_double" else point.as_int
    return 1.0, float(value)


# Attributes that are the same on every series of a demo run: left out of the breakdown.
_QUIET_KEYS = frozenset({"server.address", "server.port", "gen_ai.system", "gen_ai.provider.name"})


def render_metrics(metrics: Sequence[Metric], max_series: int = 6) -> list[str]:
    """One line per metric (totals over attribute sets) and its largest series."""
    if not metrics:
        return ["metrics: none received"]
    # name -> attribute set -> (count, total); cumulative points replace, delta points add.
    series: dict[str, dict[tuple[tuple[str, str], ...], tuple[float, float]]] = defaultdict(dict)
    info: dict[str, tuple[str, str]] = {}
    for metric in metrics:
        kind, points, temporality = _points(metric)
        info[metric.name] = (kind, metric.unit)
        for point in points:
            key = tuple(sorted((k, str(v)) for k, v in attributes(point.attributes).items()))
            count, total = _point_value(kind, point)
            if temporality == AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA:
                old = series[metric.name].get(key, (0.0, 0.0))
                count, total = old[0] + count, old[1] + total
            series[metric.name][key] = (count, total)
    lines = [f"metrics: {len(series)} metrics"]
    for name in sorted(series):
        kind, unit = info[name]
        values = series[name]
        count = sum(c for c, _ in values.values())
        total = sum(t for _, t in values.values())
        unit_text = f" {unit}" if unit else ""
        if kind in ("histogram", "exponential_histogram"):
            mean = total / count if count else 0.0
            lines.append(f"  {name} ({kind}): {count:.0f} recorded, mean {mean:.4g}{unit_text}")
        else:
            lines.append(f"  {name} ({kind}): {total:.6g}{unit_text}")
        ranked = sorted(
            values.items(), key=lambda item: -item[1][0 if kind.endswith("histogram") else 1]
        )
        for key, (c, t) in ranked[:max_series]:
            labels = ", ".join(f"{k}={v}" for k, v in key if k not in _QUIET_KEYS)
            figure = f"{c:.0f} recorded" if kind.endswith("histogram") else f"{t:.6g}"
            lines.append(f"      {figure:>14}  {labels or '(no attributes)'}")
        if len(ranked) > max_series:
            lines.append(f"      ... {len(ranked) - max_series} more series")
    return lines
