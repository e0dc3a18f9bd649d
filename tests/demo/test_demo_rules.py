"""The demo rule pack on the demo's incident, with the rule unit-test tool's clock: the
critical RouteLatencyHigh fires during the incident and resolves after it. (The end-to-end
run in test_demo_run.py checks the same on the wall clock.)"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from routewatch.collector.alerting.unittest_cli import main as alerts_test
from routewatch.collector.devservers.demo_config import demo_rule_pack

DIRECT = (
    "hybrid_routing.request.duration"
    '{hybrid_routing.route="direct", hybrid_routing.outcome="success"}'
)
# One sample a second, t = 0..40. Before the incident (t <= 10) the direct route answers 5
# requests a second in under 0.16 s; during it (t = 11..18) one request a second takes
# 2.4 s and the fast ones stop (the breaker is open); from t = 19 it is fast again.
FAST = "0+5x10 50x7 55+5x21"
SLOW = "0x10 1+1x7 8x21"


def _unit_test(rules: Path) -> dict[str, object]:
    firing = {
        "exp_labels": {"severity": "critical", "hybrid_routing.route": "direct", "team": "routing"},
        "exp_annotations": {
            "summary": "p95 latency of route direct is 2.29 s (critical: > 1.5)",
            "description": "95th percentile of hybrid_routing.request.duration over 10s "
            "from 18 requests.",
            "runbook_url": "docs/runbooks/RouteLatencyHigh.md",
        },
    }
    return {
        "rule_files": [str(rules)],
        "evaluation_interval": "1s",
        "tests": [
            {
                "name": "the demo incident fires RouteLatencyHigh critical, then resolves",
                "interval": "1s",
                "input_series": [
                    {
                        "series": DIRECT,
                        "type": "histogram",
                        "buckets": {"0.16": FAST, "2.56": SLOW},
                    }
                ],
                "alert_rule_test": [
                    {"eval_time": "10s", "alertname": "RouteLatencyHigh", "exp_alerts": []},
                    # Over the threshold since 13s: pending for `for` (4s).
                    {"eval_time": "15s", "alertname": "RouteLatencyHigh", "exp_alerts": []},
                    {"eval_time": "18s", "alertname": "RouteLatencyHigh", "exp_alerts": [firing]},
                    {"eval_time": "35s", "alertname": "RouteLatencyHigh", "exp_alerts": []},
                ],
            }
        ],
    }


def test_demo_pack_fires_and_resolves_on_the_demo_incident(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "demo-rules.yaml"
    rules.write_text(yaml.safe_dump(demo_rule_pack()))
    test_file = tmp_path / "demo_incident_test.yaml"
    test_file.write_text(yaml.safe_dump(_unit_test(rules), sort_keys=False))
    code = alerts_test([str(test_file)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "SUCCESS" in out
