"""Each EMF limit exactly at the edge and one past it, and every sanitising rule."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from emf_validator import metric_names, validate

from routewatch.exporters.emf import (
    DimensionRollup,
    EmfConfig,
    EmfEncoder,
    LabelMatcher,
    MetricDeclaration,
    MetricDescriptor,
)
from routewatch.exporters.emf.limits import MAX_EVENT_BYTES
from routewatch.exporters.emf.stats import DROPPED_POINTS, SANITIZED_VALUES
from routewatch.exporters.emf.units import cloudwatch_unit

TS = 1_700_000_000_000_000_000


def encoder(**kwargs: Any) -> EmfEncoder:
    return EmfEncoder(EmfConfig(namespace="Test", **kwargs))


def events(batch: Any) -> list[dict[str, Any]]:
    return [validate(m) for evs in batch.events().values() for _, m in evs]


def raw(batch: Any) -> list[bytes]:
    return [m for evs in batch.events().values() for _, m in evs]


@pytest.mark.parametrize(("n", "expected_events"), [(100, 1), (101, 2)])
def test_metrics_per_directive(n: int, expected_events: int) -> None:
    batch = encoder().batch()
    for i in range(n):
        batch.gauge(batch.metric(f"m{i}", "1"), {"route": "direct"}, TS, i)
    out = events(batch)
    assert len(out) == expected_events
    assert sorted(len(metric_names(e)) for e in out) == sorted([100, n - 100] if n > 100 else [n])
    assert {n for e in out for n in metric_names(e)} == {f"m{i}" for i in range(n)}


@pytest.mark.parametrize("n", [30, 31])
def test_dimension_keys(n: int) -> None:
    enc = encoder()
    batch = enc.batch()
    attrs = {f"d{i:02d}": f"v{i}" for i in range(n)}
    batch.gauge(batch.metric("g", "1"), attrs, TS, 1.0)
    (event,) = events(batch)
    (directive,) = event["_aws"]["CloudWatchMetrics"]
    assert directive["Dimensions"] == [[f"d{i:02d}" for i in range(30)]]
    # nothing is lost: every attribute is in the event
    assert all(event[k] == v for k, v in attrs.items())
    assert enc.stats.get(SANITIZED_VALUES, "too_many_dimensions") == (1 if n > 30 else 0)


def histogram(batch: Any, n_buckets: int, **kw: Any) -> None:
    bounds = [float(i) for i in range(n_buckets - 1)]
    counts = [1] * n_buckets
    batch.histogram(
        batch.metric("h", "s"),
        {"route": "mcp"},
        0,
        TS,
        n_buckets,
        float(sum(range(n_buckets))),
        -1.0,
        float(n_buckets),
        bounds,
        counts,
        False,
        **kw,
    )


@pytest.mark.parametrize(("n", "parts"), [(100, 1), (101, 2), (200, 2), (201, 3)])
def test_histogram_buckets_split(n: int, parts: int) -> None:
    batch = encoder().batch()
    histogram(batch, n)
    out = events(batch)
    assert len(out) == parts
    values = [e["h"] for e in out]
    assert all(len(v["Values"]) <= 100 for v in values)
    assert sum(v["Count"] for v in values) == n
    assert math.isclose(sum(v["Sum"] for v in values), sum(range(n)))
    assert min(v["Min"] for v in values) == -1.0
    assert max(v["Max"] for v in values) == float(n)


def test_histogram_midpoints_and_open_edges_clamped() -> None:
    batch = encoder().batch()
    batch.histogram(
        batch.metric("lat", "s"), {}, 0, TS, 6, 9.0, 0.2, 4.0, [1.0, 2.0, 3.0], [1, 2, 0, 3], False
    )
    (event,) = events(batch)
    assert event["lat"] == {
        "Values": [0.6, 1.5, 3.5],  # (0.2+1)/2, (1+2)/2, empty bucket skipped, (3+4)/2
        "Counts": [1, 2, 3],
        "Count": 6,
        "Sum": 9.0,
        "Min": 0.2,
        "Max": 4.0,
    }
    assert event["_aws"]["CloudWatchMetrics"][0]["Metrics"] == [{"Name": "lat", "Unit": "Seconds"}]


@pytest.mark.parametrize(("n", "parts"), [(100, 1), (101, 2)])
def test_exponential_histogram_split(n: int, parts: int) -> None:
    batch = encoder().batch()
    counts = [2] * n
    # scale 4: bucket i is (2**(i/16), 2**((i+1)/16)]
    total = sum(2 ** (i / 16) + 2 ** ((i + 1) / 16) for i in range(n))
    vmax = 2 ** (n / 16)
    batch.exp_histogram(
        batch.metric("e", "ms"), {}, 0, TS, 2 * n, total, 1.0, vmax, 4, 0, 0, counts, 0, [], False
    )
    out = events(batch)
    assert len(out) == parts
    assert sum(e["e"]["Count"] for e in out) == 2 * n
    assert math.isclose(sum(e["e"]["Sum"] for e in out), total)
    assert out[0]["e"]["Values"][0] == (1 + 2 ** (1 / 16)) / 2
    assert min(e["e"]["Min"] for e in out) == 1.0
    assert max(e["e"]["Max"] for e in out) == vmax


def test_exponential_histogram_negative_zero_positive() -> None:
    batch = encoder().batch()
    batch.exp_histogram(
        batch.metric("e", ""), {}, 0, TS, 4, 0.0, -4.0, 4.0, 0, 1, 1, [1], 1, [2], False
    )
    (event,) = events(batch)
    assert event["e"]["Values"] == [-3.0, 0.0, 3.0]
    assert event["e"]["Counts"] == [2, 1, 1]


def test_event_exactly_at_byte_limit_and_one_over() -> None:
    def render(pad: int, metrics: int = 1) -> tuple[EmfEncoder, list[bytes]]:
        enc = encoder()
        batch = enc.batch()
        # blank values are event properties, not dimensions: only the size matters
        attrs = {f"p{i}": " " * 1000 for i in range(1000)}
        attrs["tail"] = " " * (pad - 1_000_000)
        for i in range(metrics):
            batch.gauge(batch.metric(f"m{i}", "1"), attrs, TS, 1)
        return enc, raw(batch)

    _, (probe,) = render(1_000_000)
    pad = 1_000_000 + MAX_EVENT_BYTES - len(probe)
    _, (exact,) = render(pad)
    assert len(exact) == MAX_EVENT_BYTES
    validate(exact)
    enc, over = render(pad + 1)
    assert over == []
    assert enc.stats.get(DROPPED_POINTS, "event_too_large") == 1
    # with two metrics, an event over the limit is split in two instead
    _, two = render(pad - 10, metrics=2)
    assert len(two) == 2
    for message in two:
        validate(message)


def test_multibyte_utf8_sizes_in_bytes() -> None:
    enc = encoder()
    batch = enc.batch()
    batch.gauge(batch.metric("tokens.日本", "{token}"), {"route": "caché"}, TS, 3)
    (message,) = raw(batch)
    root = validate(message)
    assert root["route"] == "cach_"
    assert root["tokens.日本"] == 3
    assert len(message) > len(message.decode("utf-8"))


@pytest.mark.parametrize(
    ("value", "reason"),
    [(math.nan, "nan"), (math.inf, "inf"), (-math.inf, "inf"), (1.2e108, "out_of_range")],
)
def test_invalid_values_dropped_and_counted(value: float, reason: str) -> None:
    enc = encoder()
    batch = enc.batch()
    batch.gauge(batch.metric("g", "1"), {}, TS, value)
    batch.gauge(batch.metric("ok", "1"), {}, TS, 1.0)
    (event,) = events(batch)
    assert "g" not in event and event["ok"] == 1.0
    assert enc.stats.get(DROPPED_POINTS, reason) == 1


def test_range_edges_and_underflow() -> None:
    enc = encoder()
    batch = enc.batch()
    for name, v in [("big", 1.17e108), ("small", 8.6e-109), ("zero", 0), ("tiny", 1e-200)]:
        batch.gauge(batch.metric(name, "1"), {}, TS, v)
    batch.gauge(batch.metric("huge_int", "1"), {}, TS, 10**30)
    (event,) = events(batch)
    assert event["big"] == 1.17e108 and event["small"] == 8.6e-109 and event["zero"] == 0
    assert event["tiny"] == 0.0
    assert event["huge_int"] == 1e30
    assert enc.stats.get(SANITIZED_VALUES, "underflow") == 1


def test_histogram_without_a_non_empty_bucket_dropped_when_rendered() -> None:
    """A count with no bucket to hold it is dropped and counted; the other metrics of its
    event stay, and an event left with no metric is not written."""
    enc = encoder()
    batch = enc.batch()
    lat, req = batch.metric("lat", "s"), batch.metric("req", "1", counter=True)
    batch.histogram(lat, {"r": "a"}, 0, TS, 3, 3.0, 1.0, 1.0, [2.0], [0, 0], False)
    batch.sum(req, {"r": "a"}, 0, TS, 5, False)
    batch.histogram(lat, {"r": "b"}, 0, TS, 3, 3.0, 1.0, 1.0, [2.0], [0, 0], False)
    (event,) = events(batch)
    assert event["r"] == "a"
    assert metric_names(event) == {"req"}
    assert "lat" not in event
    assert enc.stats.get(DROPPED_POINTS, "malformed_histogram") == 2


@pytest.mark.parametrize("scale", [-1, 0, 3, 20, 21])
def test_exponential_positive_buckets_far_apart(scale: int) -> None:
    """Points whose buckets lie far apart (the encoder's window of a scale's buckets widens, or
    gives way to the per-point computation) get the midpoints of their own buckets."""
    base = 2 ** (2.0**-scale)
    enc = encoder()
    for offset in (0, 300, -200, 5_000, -60_000):
        if abs(offset + 3) * 2.0**-scale > 350:
            continue  # edges beyond CloudWatch's range (2**360): dropped as out_of_range
        batch = enc.batch()
        batch.exp_histogram(
            batch.metric("e", ""), {}, 0, TS, 3, 0.0, None, None, scale, 0, offset,
            [1, 0, 2], 0, [], False,
        )  # fmt: skip
        (event,) = events(batch)
        lo, hi = base**offset, base ** (offset + 3)
        assert event["e"]["Counts"] == [1, 2]
        assert event["e"]["Min"] == pytest.approx(lo)
        assert event["e"]["Max"] == pytest.approx(hi)
        # the outermost buckets' midpoints, clamped into [Min, Max]: here their own middles
        assert event["e"]["Values"] == pytest.approx(
            [(lo + base ** (offset + 1)) / 2, (base ** (offset + 2) + hi) / 2]
        )


def test_histogram_with_nan_sum_dropped() -> None:
    enc = encoder()
    batch = enc.batch()
    batch.histogram(batch.metric("h", "s"), {}, 0, TS, 1, math.nan, 1, 1, [], [1], False)
    assert events(batch) == []
    assert enc.stats.get(DROPPED_POINTS, "nan") == 1


@pytest.mark.parametrize("length", [255, 256])
def test_metric_name_length(length: int) -> None:
    enc = encoder()
    batch = enc.batch()
    batch.gauge(batch.metric("n" * length, "1"), {}, TS, 1)
    out = events(batch)
    assert len(out) == (1 if length == 255 else 0)
    assert enc.stats.get(DROPPED_POINTS, "invalid_metric_name") == (length > 255)


def test_dimension_values_sanitised() -> None:
    enc = encoder()
    batch = enc.batch()
    attrs = {
        "empty": "",
        "blank": "  ",
        ":colon": "x",
        "long": "v" * 1025,
        "max": "v" * 1024,
        "ok": "fine",
        "num": 3,
        "flag": False,
        "list": ["a", 1],
    }
    batch.gauge(batch.metric("g", "1"), attrs, TS, 1)
    (event,) = events(batch)
    (directive,) = event["_aws"]["CloudWatchMetrics"]
    assert directive["Dimensions"] == [["flag", "list", "max", "num", "ok"]]
    assert event["num"] == "3" and event["flag"] == "false" and event["list"] == '["a",1]'
    assert event["empty"] == "" and event["long"] == "v" * 1025  # kept as properties
    assert enc.stats.get(SANITIZED_VALUES, "invalid_dimension") == 4


def test_metric_name_colliding_with_dimension_is_dropped() -> None:
    enc = encoder()
    batch = enc.batch()
    batch.gauge(batch.metric("route", "1"), {"route": "direct"}, TS, 1)
    assert events(batch) == []
    assert enc.stats.get(DROPPED_POINTS, "name_conflict") == 1


def test_same_name_twice_goes_to_another_event() -> None:
    batch = encoder().batch()
    info = batch.metric("g", "1")
    batch.gauge(info, {"a": "1"}, TS, 1)
    batch.gauge(info, {"a": "1"}, TS, 2)
    out = events(batch)
    assert sorted(e["g"] for e in out) == [1, 2]


def test_grouping_by_timestamp_and_dimensions() -> None:
    batch = encoder().batch()
    for name in ("a", "b"):
        batch.gauge(batch.metric(name, "1"), {"r": "x"}, TS, 1)
    batch.gauge(batch.metric("c", "1"), {"r": "y"}, TS, 1)
    batch.gauge(batch.metric("d", "1"), {"r": "x"}, TS + 5_000_000, 1)
    out = events(batch)
    assert sorted(sorted(metric_names(e)) for e in out) == [["a", "b"], ["c"], ["d"]]
    assert [e["_aws"]["Timestamp"] for e in out] == sorted(e["_aws"]["Timestamp"] for e in out)


@pytest.mark.parametrize(
    ("ucum", "counter", "expected"),
    [
        ("s", False, "Seconds"),
        ("ms", False, "Milliseconds"),
        ("us", False, "Microseconds"),
        ("By", False, "Bytes"),
        ("KiBy", False, "Kilobytes"),
        ("kBy", False, "Kilobytes"),
        ("MiBy", False, "Megabytes"),
        ("1", False, "None"),
        ("1", True, "Count"),
        ("{token}", False, "Count"),
        ("{request}", True, "Count"),
        ("%", False, "Percent"),
        ("USD", True, "None"),
        ("By/s", False, "Bytes/Second"),
        ("{request}/s", False, "Count/Second"),
        ("", False, "None"),
        ("Milliseconds", False, "Milliseconds"),
        ("furlong", False, "None"),
    ],
)
def test_units(ucum: str, counter: bool, expected: str) -> None:
    assert cloudwatch_unit(ucum, counter) == expected


def test_metric_descriptors_override_units() -> None:
    enc = EmfEncoder(
        EmfConfig(
            metric_descriptors=(
                MetricDescriptor("a", "Bytes", overwrite=True),
                MetricDescriptor("b", "Bytes"),
                MetricDescriptor("c", "Bytes"),
            )
        )
    )
    batch = enc.batch()
    for name, unit in (("a", "s"), ("b", "s"), ("c", "")):
        batch.gauge(batch.metric(name, unit), {}, TS, 1)
    (event,) = events(batch)
    units = {m["Name"]: m["Unit"] for m in event["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert units == {"a": "Bytes", "b": "Seconds", "c": "Bytes"}


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        (DimensionRollup.NONE, [["a", "b"]]),
        (DimensionRollup.ZERO_AND_SINGLE, [["a", "b"], [], ["a"], ["b"]]),
        (DimensionRollup.SINGLE_ONLY, [["a", "b"], ["a"], ["b"]]),
    ],
)
def test_dimension_rollup(option: DimensionRollup, expected: list[list[str]]) -> None:
    batch = EmfEncoder(EmfConfig(dimension_rollup_option=option)).batch()
    batch.gauge(batch.metric("g", "1"), {"b": "2", "a": "1"}, TS, 1)
    (event,) = events(batch)
    assert event["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == expected


def test_metric_declarations_select_metrics_and_dimensions() -> None:
    decl = MetricDeclaration(
        dimensions=(("route",), ("route", "operation"), ("missing",)),
        metric_name_selectors=("^hybrid_routing\\.",),
        label_matchers=(LabelMatcher(("route", "operation"), "^(direct|mcp);", ";"),),
    )
    batch = EmfEncoder(EmfConfig(metric_declarations=(decl,))).batch()
    attrs = {"route": "direct", "operation": "emergency"}
    batch.gauge(batch.metric("hybrid_routing.attempts", "1"), attrs, TS, 1)
    batch.gauge(batch.metric("other", "1"), attrs, TS, 2)
    batch.gauge(batch.metric("hybrid_routing.attempts", "1"), {"route": "cache"}, TS, 3)
    messages = raw(batch)
    roots = [orjson.loads(m) for m in messages]
    declared = [r for r in roots if "_aws" in r]
    (event,) = declared
    validate(orjson.dumps(event))
    (directive,) = event["_aws"]["CloudWatchMetrics"]
    assert directive["Dimensions"] == [["route"], ["route", "operation"]]
    assert [m["Name"] for m in directive["Metrics"]] == ["hybrid_routing.attempts"]
    # undeclared values stay in the logs as properties (queryable, not metrics)
    assert event["other"] == 2
    undeclared = [r for r in roots if "_aws" not in r]
    assert undeclared == [{"route": "cache", "hybrid_routing.attempts": 3}]


def test_exemplar_trace_ids_are_a_root_property() -> None:
    batch = encoder().batch()
    tid = "4bf92f3577b34da6a3ce929d0e0e4736"
    batch.histogram(
        batch.metric("lat", "s"), {"r": "x"}, 0, TS, 1, 7.0, 7.0, 7.0, [5.0], [0, 1], False, [tid]
    )
    batch.gauge(batch.metric("g", "1"), {"r": "x"}, TS, 1, [tid, "ab" * 16])
    (event,) = events(batch)
    assert event["traceIds"] == [tid, "ab" * 16]


def test_exemplar_trace_ids_from_each_reader_deduplicated_and_capped() -> None:
    """The SDK's ints (0: no trace), OTLP's bytes (empty: none) and text go into one event as
    32 hex digits, each once, at most `max_trace_ids`; ids past the cap are not even read."""
    batch = encoder(max_trace_ids=3).batch()
    attrs = {"r": "x"}
    batch.gauge(batch.metric("sdk", "1"), attrs, TS, 1, [0, 0xABC, 0xABC])
    batch.gauge(batch.metric("otlp", "1"), attrs, TS, 2, [b"", bytes.fromhex("ab" * 16)])
    read = []

    def more() -> Iterator[str]:
        for tid in ("cd" * 16, "ef" * 16):
            read.append(tid)
            yield tid

    batch.gauge(batch.metric("text", "1"), attrs, TS, 3, more())
    batch.gauge(batch.metric("late", "1"), attrs, TS, 4, more())
    (event,) = events(batch)
    assert event["traceIds"] == ["abc".zfill(32), "ab" * 16, "cd" * 16]
    assert read == ["cd" * 16]


def test_summary_with_and_without_detailed_metrics() -> None:
    for detailed in (False, True):
        enc = EmfEncoder(
            EmfConfig(detailed_metrics=detailed, retain_initial_value_of_delta_metric=True)
        )
        batch = enc.batch()
        batch.summary(
            batch.metric("rt", "ms"), {"r": "x"}, 0, TS, 4, 10.0, [(0.0, 1.0), (0.5, 2), (1.0, 5)]
        )
        out = events(batch)
        summary = next(e for e in out if "quantile" not in e)
        assert summary["rt"] == {"Count": 4, "Sum": 10.0, "Min": 1.0, "Max": 5.0}
        quantiles = sorted((e["quantile"], e["rt"]) for e in out if "quantile" in e)
        assert quantiles == ([("0.0", 1.0), ("0.5", 2), ("1.0", 5)] if detailed else [])


def test_namespace_from_resource_when_unset() -> None:
    enc = EmfEncoder(EmfConfig())
    batch = enc.batch()
    batch.resource({"service.name": "router", "service.namespace": "hybrid"})
    batch.gauge(batch.metric("g", "1"), {}, TS, 1)
    batch.resource({})
    batch.gauge(batch.metric("g", "1"), {}, TS, 1)
    namespaces = sorted(e["_aws"]["CloudWatchMetrics"][0]["Namespace"] for e in events(batch))
    assert namespaces == ["default", "hybrid/router"]


def test_invalid_namespace_from_resource_falls_back_to_default() -> None:
    enc = EmfEncoder(EmfConfig())
    batch = enc.batch()
    batch.resource({"service.name": "s" * 300})
    batch.gauge(batch.metric("g", "1"), {}, TS, 1)
    (event,) = events(batch)
    assert event["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "default"
    assert enc.stats.get(SANITIZED_VALUES, "invalid_namespace") == 1


def test_resource_to_telemetry_conversion() -> None:
    enc = EmfEncoder(EmfConfig(namespace="N", resource_to_telemetry_conversion=True))
    batch = enc.batch()
    batch.resource({"service.name": "router", "route": "resource-loses"})
    batch.gauge(batch.metric("g", "1"), {"route": "direct"}, TS, 1)
    (event,) = events(batch)
    assert event["service.name"] == "router" and event["route"] == "direct"
    assert event["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["route", "service.name"]]


def test_dimension_names_rename_attributes() -> None:
    names = {
        "hybrid_routing.route": "RoutePath",
        "hybrid_routing.operation": "OperationType",
        "deployment.environment": "Environment",
    }
    batch = EmfEncoder(EmfConfig(namespace="HybridRouting", dimension_names=names)).batch()
    attrs = {"hybrid_routing.route": "mcp", "hybrid_routing.operation": "standard", "x": "y"}
    batch.gauge(batch.metric("g", "1"), attrs, TS, 1)
    (event,) = events(batch)
    assert event["RoutePath"] == "mcp" and event["OperationType"] == "standard"
    assert event["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [
        ["OperationType", "RoutePath", "x"]
    ]


def test_array_valued_resource_and_point_attributes() -> None:
    enc = EmfEncoder(EmfConfig(namespace="N", resource_to_telemetry_conversion=True))
    for step in range(2):
        batch = enc.batch()
        batch.resource({"host.ips": ["10.0.0.1", "10.0.0.2"], "service.name": "router"})
        info = batch.metric("c", "1", counter=True)
        batch.sum(info, {"tags": ["a", "b"]}, 1, TS + step * 10**9, 5 + step, True)
        out = events(batch)
    (event,) = out
    assert event["c"] == 1
    assert event["host.ips"] == '["10.0.0.1","10.0.0.2"]' and event["tags"] == '["a","b"]'


def test_histogram_min_above_max_is_derived_from_buckets() -> None:
    enc = encoder()
    batch = enc.batch()
    batch.histogram(
        batch.metric("h", "s"), {}, 0, TS, 3, 4.5, 5.0, 1.0, [1.0, 2.0], [0, 3, 0], False
    )
    (event,) = events(batch)
    assert (event["h"]["Min"], event["h"]["Max"]) == (1.0, 2.0)
    assert enc.stats.get(SANITIZED_VALUES, "min_above_max") == 1


def test_each_cause_is_logged_once_and_counted_always(caplog: pytest.LogCaptureFixture) -> None:
    enc = encoder()
    with caplog.at_level("WARNING", logger="routewatch.exporters.emf"):
        for _ in range(3):
            batch = enc.batch()
            batch.gauge(batch.metric("g", "1"), {}, TS, math.nan)
            batch.gauge(batch.metric("g", "1"), {}, TS, math.inf)
    assert enc.stats.get(DROPPED_POINTS, "nan") == 3
    assert enc.stats.get(DROPPED_POINTS, "inf") == 3
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2
    assert any("(nan)" in m for m in messages) and any("(inf)" in m for m in messages)


def test_names_and_values_that_look_like_json_render_as_they_are() -> None:
    """Events are rendered many at a time and cut apart: names that hold what separates
    them there must not cut an event."""
    batch = encoder().batch()
    names = ['a},{"b', "}", "{", '"},{"', "plain"]
    for i, name in enumerate(names):
        for route in ("direct", "mcp},{x"):
            batch.gauge(batch.metric(name, "1"), {"route": route}, TS + i, float(i))
    out = events(batch)
    assert sorted((e["route"], n, e[n]) for e in out for n in metric_names(e)) == sorted(
        (route, name, float(i)) for i, name in enumerate(names) for route in ("direct", "mcp},{x")
    )
