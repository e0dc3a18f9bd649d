"""`routewatch alerts test`: notation, histogram input, diffs and exit codes."""

from pathlib import Path

import pytest

from routewatch.collector.alerting.notation import STALE, expand_values, parse_selector
from routewatch.collector.alerting.unittest_cli import main

RULES = """
rules:
  - alert: QueueDeep
    kind: value
    metric: queue.depth
    by: [queue]
    window: 5m
    for: 2m
    thresholds: {critical: "> 100", warning: "> 50"}
    annotations: {summary: "{{ labels.queue }} depth {{ value }}"}
  - alert: SlowRequests
    kind: quantile
    metric: request.duration
    quantile: 0.9
    by: []
    window: 5m
    thresholds: {warning: "> 1"}
"""


def write(tmp_path: Path, tests: str) -> Path:
    (tmp_path / "rules.yaml").write_text(RULES)
    path = tmp_path / "test.yaml"
    path.write_text(tests)
    return path


def test_expand_values_follows_promtool() -> None:
    assert expand_values("-2+4x3") == [-2, 2, 6, 10]
    assert expand_values("1-2x4") == [1, -1, -3, -5, -7]
    assert expand_values("1x4") == [1, 1, 1, 1, 1]
    assert expand_values("1 _x3 stale") == [1, None, None, None, STALE]
    assert expand_values("_ 2.5e1") == [None, 25.0]
    with pytest.raises(ValueError, match="'1y2'"):
        expand_values("1y2")


def test_selector_accepts_dotted_names() -> None:
    assert parse_selector('a.b{c.d="x", e="y\\"z"}') == ("a.b", {"c.d": "x", "e": 'y"z'})
    assert parse_selector("m") == ("m", {})
    with pytest.raises(ValueError):
        parse_selector('m{c="x" d="y"}')


GAUGE_TEST = """
rule_files: [rules.yaml]
evaluation_interval: 1m
tests:
  - input_series:
      - series: 'queue.depth{queue="a"}'
        type: gauge
        values: '10 20 60 70 120 130 _ _'
    alert_rule_test:
      - eval_time: 3m
        alertname: QueueDeep
        exp_alerts: []
      - eval_time: 4m
        alertname: QueueDeep
        exp_alerts:
          - exp_labels: {severity: %s, queue: a}
            exp_annotations: {summary: "a depth 120"}
"""


def test_passing_file_exits_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(write(tmp_path, GAUGE_TEST % "critical"))]) == 0
    assert "SUCCESS" in capsys.readouterr().out


def test_failure_prints_a_diff_and_exits_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(write(tmp_path, GAUGE_TEST % "warning"))]) == 1
    out = capsys.readouterr().out
    assert "FAILED #0: alertname: QueueDeep, time: 4m" in out
    assert "-    severity: warning" in out
    assert "+    severity: critical" in out


def test_histogram_series_in_bucket_notation(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
rule_files: [rules.yaml]
tests:
  - input_series:
      - series: 'request.duration{route="x"}'
        type: histogram
        buckets: {"0.5": '0+8x5', "2": '0+2x5', "+Inf": '0'}
    alert_rule_test:
      - eval_time: 2m
        alertname: SlowRequests
        exp_alerts:
          - exp_labels: {severity: warning}
""",
    )
    assert main([str(path)]) == 0


def test_bad_file_names_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(
        tmp_path,
        """
rule_files: [rules.yaml]
tests:
  - input_series:
      - series: 'queue.depth'
        values: '1 2 x'
""",
    )
    assert main([str(path)]) == 1
    assert "tests[0]::input_series[0]: invalid value 'x'" in capsys.readouterr().out


def test_unknown_alertname_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(
        tmp_path,
        """
rule_files: [rules.yaml]
tests:
  - alert_rule_test:
      - {eval_time: 1m, alertname: Nope, exp_alerts: []}
""",
    )
    assert main([str(path)]) == 1
    assert "'Nope' is not a rule" in capsys.readouterr().out


def test_usage_errors_return_a_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "FILE" in capsys.readouterr().err
    assert main(["--help"]) == 0


def test_missing_file_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "nope.yaml")]) == 1
    assert "No such file" in capsys.readouterr().out
