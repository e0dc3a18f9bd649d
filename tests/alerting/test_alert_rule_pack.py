"""The shipped rule pack: loads, has a runbook per rule, and passes its own rule unit tests."""

from pathlib import Path

import pytest

from routewatch.collector.alerting import unittest_cli
from routewatch.collector.alerting.rules import DEFAULT_RULE_FILE, build_rule_set

REPO = Path(__file__).resolve().parents[2]
RULE_TESTS = sorted((Path(__file__).parent / "rules").glob("*.yaml"))


def test_rule_pack_tests_pass(capsys: pytest.CaptureFixture[str]) -> None:
    assert RULE_TESTS
    code = unittest_cli.main([str(p) for p in RULE_TESTS])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "FAILED" not in out


def test_every_default_rule_has_a_runbook_it_links() -> None:
    rules = build_rule_set([], [str(DEFAULT_RULE_FILE)], [], "test").rules
    assert {r.name for r in rules} >= {
        "RouteLatencyHigh",
        "RouteSuccessRateLow",
        "FallbackRateHigh",
        "RoutingEfficiencyLow",
        "RouteImbalance",
        "CacheHitRateLow",
        "CostIncrease",
        "RoutingTelemetryAbsent",
    }
    for rule in rules:
        link = rule.config.annotations["runbook_url"]
        assert link == f"docs/runbooks/{rule.name}.md"
        text = (REPO / link).read_text(encoding="utf-8")
        assert rule.name in text.splitlines()[0]


def test_rule_pack_thresholds_are_the_original_systems() -> None:
    rules = {r.name: r for r in build_rule_set([], ["rules/default.yaml"], [], "t").rules}

    def levels(name: str) -> dict[str, str]:
        return {sev: str(cmp) for sev, cmp in rules[name].thresholds}

    assert levels("RouteLatencyHigh") == {"critical": "> 15", "warning": "> 10"}
    assert levels("RouteSuccessRateLow") == {
        "critical": "< 0.85",
        "error": "< 0.9",
        "warning": "< 0.95",
    }
    assert levels("FallbackRateHigh") == {
        "critical": ">= 0.4",
        "error": ">= 0.2",
        "warning": ">= 0.1",
    }
    assert levels("RoutingEfficiencyLow") == {"critical": "< 0.7", "warning": "< 0.8"}
    assert levels("RouteImbalance") == {"critical": ">= 70", "error": ">= 50", "warning": ">= 30"}
    assert levels("CostIncrease") == {"critical": ">= 100", "error": ">= 50", "warning": ">= 20"}
    assert levels("CacheHitRateLow") == {"warning": "< 0.5"}
    assert rules["CacheHitRateLow"].config.min_samples == 11
