"""Property tests over what only OTLP carries: summaries, int and double values, exemplars,
several resources (with resource attributes as dimensions) and missing min/max."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from emf_validator import metric_names, validate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    AggregationTemporality,
    Exemplar,
    Gauge,
    Histogram,
    HistogramDataPoint,
    Metric,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
    Summary,
    SummaryDataPoint,
)
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

from routewatch.exporters.emf import EmfConfig, EmfEncoder, read_otlp_metrics

S = 10**9
T0 = 1_700_000_000 * S
DELTA = AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA

trace_ids = st.lists(st.binary(min_size=16, max_size=16).filter(any), max_size=3)


@st.composite
def workloads(draw: st.DrawFn) -> dict[str, Any]:
    steps = draw(st.integers(1, 3))
    services = draw(st.lists(st.sampled_from(["router", "cache", "mcp"]), min_size=1, unique=True))
    routes = draw(st.lists(st.sampled_from(["direct", "mcp", "fallback"]), min_size=1, unique=True))
    summaries = {}
    for key in [(svc, r) for svc in services for r in routes]:
        steps_ = []
        for _ in range(steps):
            count = draw(st.integers(0, 50))
            # a sum only with observations (the sum of nothing is 0)
            total = draw(st.floats(0, 1e4)) if count else 0.0
            steps_.append((count, total, draw(st.floats(0, 100))))
        summaries[key] = steps_
    gauges = {
        (svc, r): [
            (
                draw(st.one_of(st.integers(-(10**12), 10**12), st.floats(-1e9, 1e9))),
                draw(trace_ids),
            )
            for _ in range(steps)
        ]
        for svc in services
        for r in routes
    }
    hists = {
        (svc, r): [
            (draw(st.lists(st.integers(0, 9), min_size=3, max_size=3)), draw(trace_ids))
            for _ in range(steps)
        ]
        for svc in services
        for r in routes
    }
    return {"steps": steps, "services": services, "routes": routes, "summaries": summaries,
            "gauges": gauges, "hists": hists}  # fmt: skip


def kv(k: str, v: str) -> KeyValue:
    return KeyValue(key=k, value=AnyValue(string_value=v))


def request(w: dict[str, Any], step: int) -> ExportMetricsServiceRequest:
    ts = T0 + (step + 1) * S
    out = ExportMetricsServiceRequest()
    for svc in w["services"]:
        summary, gauge, hist = Summary(), Gauge(), Histogram(aggregation_temporality=DELTA)
        for r in w["routes"]:
            attrs = [kv("route", r)]
            cum_count = sum(c for c, _, _ in w["summaries"][(svc, r)][: step + 1])
            cum_sum = math.fsum(s for _, s, _ in w["summaries"][(svc, r)][: step + 1])
            spread = w["summaries"][(svc, r)][step][2]
            summary.data_points.append(
                SummaryDataPoint(
                    attributes=attrs,
                    start_time_unix_nano=T0,
                    time_unix_nano=ts,
                    count=cum_count,
                    sum=cum_sum,
                    quantile_values=[
                        SummaryDataPoint.ValueAtQuantile(quantile=0.0, value=0.0),
                        SummaryDataPoint.ValueAtQuantile(quantile=1.0, value=spread),
                    ],
                )
            )
            value, tids = w["gauges"][(svc, r)][step]
            point = NumberDataPoint(attributes=attrs, time_unix_nano=ts)
            if isinstance(value, int):
                point.as_int = value
            else:
                point.as_double = value
            point.exemplars.extend(Exemplar(trace_id=t, as_double=1.0) for t in tids)
            gauge.data_points.append(point)
            counts, tids = w["hists"][(svc, r)][step]
            # no min/max: they come from the bucket edges
            hist.data_points.append(
                HistogramDataPoint(
                    attributes=attrs,
                    time_unix_nano=ts,
                    count=sum(counts),
                    sum=float(counts[1] * 1.5 + counts[2] * 3.0),
                    explicit_bounds=[1.0, 2.0],
                    bucket_counts=counts,
                    exemplars=[Exemplar(trace_id=t, as_double=1.0) for t in tids],
                )
            )
        out.resource_metrics.append(
            ResourceMetrics(
                resource=Resource(attributes=[kv("service.name", svc)]),
                scope_metrics=[
                    ScopeMetrics(
                        metrics=[
                            Metric(name="rt", unit="ms", summary=summary),
                            Metric(name="inflight", unit="{request}", gauge=gauge),
                            Metric(name="size", unit="By", histogram=hist),
                        ]
                    )
                ],
            )
        )
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(workloads())
def test_otlp_summaries_gauges_exemplars_add_up(w: dict[str, Any]) -> None:
    encoder = EmfEncoder(
        EmfConfig(
            namespace="Prop",
            resource_to_telemetry_conversion=True,
            retain_initial_value_of_delta_metric=True,
        )
    )
    got: dict[tuple[str, str, str], dict[str, Any]] = defaultdict(
        lambda: {"count": 0, "sum": 0.0, "values": [], "min": math.inf, "max": -math.inf}
    )
    seen_traces: dict[tuple[str, str], set[str]] = defaultdict(set)
    for step in range(w["steps"]):
        batch = encoder.batch(stable_attributes=True)  # as the exporters do
        read_otlp_metrics(batch, request(w, step))
        for events in batch.events().values():
            for _, message in events:
                root = validate(message)
                series = (root["service.name"], root["route"])
                assert ["route", "service.name"] in root["_aws"]["CloudWatchMetrics"][0][
                    "Dimensions"
                ]
                seen_traces[series].update(root.get("traceIds", []))
                for name in metric_names(root):
                    entry, value = got[(name, *series)], root[name]
                    if isinstance(value, dict):
                        entry["count"] += value["Count"]
                        entry["sum"] += value["Sum"]
                        entry["min"] = min(entry["min"], value["Min"])
                        entry["max"] = max(entry["max"], value["Max"])
                    else:
                        entry["values"].append(value)
    for (svc, r), steps in w["summaries"].items():
        total_count = sum(c for c, _, _ in steps)
        entry = got.get(("rt", svc, r), {"count": 0, "sum": 0.0})
        assert entry["count"] == total_count
        if total_count:
            assert math.isclose(entry["sum"], math.fsum(s for _, s, _ in steps), abs_tol=1e-6)
        gauge_steps = w["gauges"][(svc, r)]
        # magnitudes below EMF's minimum are written as 0
        expected = [0.0 if 0 < abs(v) < 8.5e-109 else v for v, _ in gauge_steps]
        assert got[("inflight", svc, r)]["values"] == expected
        hist_steps = w["hists"][(svc, r)]
        observations = sum(sum(c) for c, _ in hist_steps)
        assert got.get(("size", svc, r), {"count": 0})["count"] == observations
        # a histogram point without observations is not sent, nor are its exemplars
        sent = gauge_steps + [(c, tids) for c, tids in hist_steps if sum(c)]
        expected_traces = {t.hex() for _, tids in sent for t in tids}
        # up to 10 per event: all of them when fewer
        assert seen_traces[(svc, r)] <= expected_traces
        if len(expected_traces) <= 10:
            assert seen_traces[(svc, r)] == expected_traces
