"""`routewatch alerts test FILE...`: rule unit tests in the style of `promtool test rules`.

A test file:

    rule_files: [../rules/default.yaml]   # relative to this file (then the package's rules/)
    evaluation_interval: 1m               # default 1m
    tests:
      - name: latency on direct
        interval: 1m                      # spacing of input samples; default evaluation_interval
        input_series:
          - series: 'hybrid_routing.cache.lookups{hybrid_routing.cache.result="hit"}'
            values: '0+5x20'              # promtool notation: a+bxn, a-bxn, axn, _, _xn, stale
            type: counter                 # counter (default) | gauge | histogram
            temporality: cumulative       # cumulative (default; the first sample is the
                                          # baseline, as for a Prometheus counter) | delta
          - series: 'hybrid_routing.request.duration{hybrid_routing.route="direct"}'
            type: histogram
            buckets:                      # upper bound -> that bucket's own count over time
              "10.24": '0+18x20'          # (OTLP bucket_counts, not Prometheus' cumulative le)
              "20.48": '0+2x20'
              "+Inf": '0'                 # buckets left out count 0
            sum: '0+200x20'               # optional
            exemplars:                    # optional: attached to the sample at `time`
              - {time: 5m, value: 19.5, trace_id: 0af7651916cd43dd8448eb211c80319c}
        alert_rule_test:
          - eval_time: 10m
            alertname: RouteLatencyHigh
            exp_alerts:                   # the firing alerts (pending ones are not listed)
              - exp_labels: {severity: critical, hybrid_routing.route: direct}
                exp_annotations: {summary: "..."}

`alertname` is added to `exp_labels` when left out and `severity` is compared as a label;
annotations are compared in full. Inputs at a time are fed before the evaluation at that time.
Exit code 0 when every test passes, 1 otherwise (failures print a diff).
"""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from routewatch.collector.alerting.clock import Tick
from routewatch.collector.alerting.engine import Engine, EngineSettings
from routewatch.collector.alerting.notation import STALE, Sample, expand_values, parse_selector
from routewatch.collector.alerting.otlp_build import MetricKind, PointSpec, metrics_request
from routewatch.collector.alerting.rules import build_rule_set
from routewatch.collector.confmap import Duration, decode
from routewatch.collector.errors import ConfigError

# Test time 0 as epoch seconds: any fixed instant works; this one reads well in ISO form.
EPOCH = 1_700_000_000.0
ONE_MINUTE = Duration(60.0)
ZERO = Duration(0.0)


@dataclass
class ExemplarSpec:
    time: Duration = ZERO
    value: float = 0.0
    trace_id: str = ""

    def validate(self) -> None:
        try:
            if len(bytes.fromhex(self.trace_id)) != 16:
                raise ValueError
        except ValueError:
            raise ValueError("trace_id must be 32 hex digits") from None


@dataclass
class InputSeries:
    series: str = ""
    values: str = ""
    type: Literal["counter", "gauge", "histogram"] = "counter"
    temporality: Literal["cumulative", "delta"] = "cumulative"
    buckets: dict[str, str] = field(default_factory=dict)
    sum: str = ""
    exemplars: list[ExemplarSpec] = field(default_factory=list)

    def validate(self) -> None:
        parse_selector(self.series)
        if self.type == "histogram":
            if not self.buckets:
                raise ValueError("buckets is required for type histogram")
            for bound, values in self.buckets.items():
                _bound(bound)
                expand_values(values)
        else:
            if not self.values.strip():
                raise ValueError("values is required")
            expand_values(self.values)


@dataclass
class ExpAlert:
    exp_labels: dict[str, str] = field(default_factory=dict)
    exp_annotations: dict[str, str] = field(default_factory=dict)


@dataclass
class AlertRuleTest:
    eval_time: Duration = ZERO
    alertname: str = ""
    exp_alerts: list[ExpAlert] = field(default_factory=list)

    def validate(self) -> None:
        if not self.alertname:
            raise ValueError("alertname is required")


@dataclass
class TestGroup:
    name: str = ""
    interval: Duration | None = None
    input_series: list[InputSeries] = field(default_factory=list)
    alert_rule_test: list[AlertRuleTest] = field(default_factory=list)


@dataclass
class TestFile:
    rule_files: list[str] = field(default_factory=list)
    evaluation_interval: Duration = ONE_MINUTE
    tests: list[TestGroup] = field(default_factory=list)

    def validate(self) -> None:
        if not self.rule_files:
            raise ValueError("rule_files is required")
        if self.evaluation_interval <= 0:
            raise ValueError("evaluation_interval must be positive")


def _bound(text: str) -> float:
    try:
        return float(text.replace("Inf", "inf"))
    except ValueError:
        raise ValueError(f"invalid bucket bound {text!r}") from None


def _fmt_duration(seconds: float) -> str:
    if seconds % 3600 == 0 and seconds:
        return f"{seconds / 3600:g}h"
    if seconds % 60 == 0 and seconds:
        return f"{seconds / 60:g}m"
    return f"{seconds:g}s"


@dataclass
class _Feed:
    """The OTLP point of one input series at each step."""

    name: str
    kind: MetricKind
    temporality: Literal["cumulative", "delta"]
    points: dict[int, PointSpec]


def _feed(spec: InputSeries, interval: float) -> _Feed:
    name, labels = parse_selector(spec.series)
    exemplars: dict[int, list[tuple[float, str]]] = {}
    for ex in spec.exemplars:
        exemplars.setdefault(round(ex.time / interval), []).append((ex.value, ex.trace_id))
    points: dict[int, PointSpec] = {}
    if spec.type == "histogram":
        columns = sorted((_bound(b), expand_values(v)) for b, v in spec.buckets.items())
        bounds = [b for b, _ in columns if b != float("inf")]
        sums = expand_values(spec.sum) if spec.sum else []
        steps = max(len(v) for _, v in columns)
        for i in range(steps):
            samples = [v[i] if i < len(v) else 0.0 for _, v in columns]
            if any(s is None for s in samples):
                continue
            stale = any(s == STALE for s in samples)
            counts = [float(s) if isinstance(s, float) else 0.0 for s in samples]
            if not any(b == float("inf") for b, _ in columns):
                counts.append(0.0)
            total = sums[i] if i < len(sums) and isinstance(sums[i], float) else 0.0
            points[i] = PointSpec(
                labels,
                EPOCH + i * interval,
                bounds=bounds,
                counts=counts,
                sum=float(total or 0.0),
                exemplars=tuple(exemplars.get(i, ())),
                stale=stale,
            )
        return _Feed(name, "histogram", spec.temporality, points)
    kind: MetricKind = "gauge" if spec.type == "gauge" else "sum"
    values: list[Sample] = expand_values(spec.values)
    for i, sample in enumerate(values):
        if sample is None:
            continue
        points[i] = PointSpec(
            labels,
            EPOCH + i * interval,
            value=sample if isinstance(sample, float) else 0.0,
            exemplars=tuple(exemplars.get(i, ())),
            stale=sample == STALE,
        )
    return _Feed(name, kind, spec.temporality, points)


def _alert_view(labels: dict[str, str], annotations: dict[str, str]) -> dict[str, Any]:
    return {
        "labels": dict(sorted(labels.items())),
        "annotations": dict(sorted(annotations.items())),
    }


def _dump(alerts: list[dict[str, Any]]) -> list[str]:
    text = (
        yaml.safe_dump(alerts, sort_keys=False, allow_unicode=True, width=1000)
        if alerts
        else "[]\n"
    )
    return text.splitlines()


def run_group(
    group: TestGroup, file_cfg: TestFile, test_path: Path, index: int, out: list[str]
) -> bool:
    title = group.name or f"#{index}"
    rule_set = build_rule_set(
        [], file_cfg.rule_files, [], f"{test_path}", base_dirs=(test_path.parent,)
    )
    names = {r.name for r in rule_set.rules}
    interval = float(group.interval or file_cfg.evaluation_interval)
    engine = Engine(EngineSettings(rules=rule_set), None, EPOCH)
    feeds = [_feed(s, interval) for s in group.input_series]
    eval_interval = float(file_cfg.evaluation_interval)
    checks: dict[float, list[AlertRuleTest]] = {}
    for test in group.alert_rule_test:
        if test.alertname not in names:
            out.append(f"  {title}: alertname {test.alertname!r} is not a rule in rule_files")
            return False
        checks.setdefault(float(test.eval_time), []).append(test)
    end = max(checks, default=0.0)
    times = {i * interval for f in feeds for i in f.points if i * interval <= end}
    step = 0
    while step * eval_interval <= end:
        times.add(step * eval_interval)
        step += 1
    times.update(checks)
    ok = True
    for t in sorted(times):
        for feed in feeds:
            i = round(t / interval)
            point = feed.points.get(i)
            if point is not None and abs(i * interval - t) < 1e-9:
                engine.ingest(
                    metrics_request(feed.name, feed.kind, [point], feed.temporality),
                    Tick(EPOCH + t),
                )
        engine.evaluate(Tick(EPOCH + t))
        for test in checks.get(t, []):
            got = sorted(
                (
                    _alert_view({**st.labels, "severity": st.severity}, engine.annotations_of(st))
                    for st in engine.firing()
                    if st.rule == test.alertname
                ),
                key=repr,
            )
            expected = sorted(
                (
                    _alert_view(
                        {"alertname": test.alertname, **e.exp_labels}, dict(e.exp_annotations)
                    )
                    for e in test.exp_alerts
                ),
                key=repr,
            )
            if got != expected:
                ok = False
                out.append(
                    f"  FAILED {title}: alertname: {test.alertname}, "
                    f"time: {_fmt_duration(test.eval_time)}"
                )
                diff = difflib.unified_diff(
                    _dump(expected), _dump(got), "expected", "got", lineterm=""
                )
                out.extend("    " + line for line in diff)
    return ok


def run_file(path: Path, out: list[str]) -> bool:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        file_cfg = decode(TestFile, raw, str(path))
    except (OSError, yaml.YAMLError, ConfigError) as err:
        out.append(f"  ERROR: {err}")
        return False
    ok = True
    for i, group in enumerate(file_cfg.tests):
        try:
            ok = run_group(group, file_cfg, path, i, out) and ok
        except (ConfigError, ValueError) as err:
            out.append(f"  ERROR {group.name or f'#{i}'}: {err}")
            ok = False
    return ok


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="routewatch alerts test",
        description="Unit-test alert rules (promtool test rules style).",
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as exit_:  # usage errors and --help: a return code, as promised
        return exit_.code if isinstance(exit_.code, int) else 1
    failed = 0
    for path in args.files:
        out: list[str] = []
        ok = run_file(path, out)
        print(f"Unit Testing: {path}")
        for line in out:
            print(line)
        print("  SUCCESS" if ok else "  FAILED")
        failed += not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
