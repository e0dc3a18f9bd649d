"""Severities through a running `routewatch run`: a level change (critical -> warning)
re-notifies under the same fingerprint, so PagerDuty (severities [critical, error]) sees its
incident resolved and SNS (all severities) the warning; and a critical alert inhibits a
warning on the same route (inhibit_rules from the config), which then never notifies."""

from __future__ import annotations

from pathlib import Path

from alerting.e2e.collector_proc import Collector, latency_batch, latency_rule, sns_exporter
from support.moto import moto_server
from support.sns_sqs import subscribe

from routewatch.collector.devservers.pagerduty_server import pagerduty_server


def test_critical_to_warning_resolves_the_page_and_tells_sns(tmp_path: Path) -> None:
    with moto_server() as moto, pagerduty_server() as pd:
        topic = subscribe(moto, "e2e-alerts", raw=True)
        collector = Collector(tmp_path)
        rule = latency_rule(window="30s")
        rule["thresholds"] = {"critical": "> 1.5", "warning": "> 0.5"}
        collector.configure(
            [rule],
            pagerduty_url=pd.url,
            sns=sns_exporter(topic.topic_arn, moto),
        )
        collector.start()
        try:
            collector.export(latency_batch(2.0, 20))  # p95 in (1.28, 2.56]: critical
            critical = topic.receive(1, timeout=15)
            collector.export(latency_batch(1.0, 2000))  # p95 in (0.64, 1.28]: warning
            warning = topic.receive(1, timeout=15)
            collector.export(latency_batch(0.05, 100_000))  # fast again
            resolved = topic.receive(1, timeout=15)
        finally:
            exit_code = collector.stop()
    assert exit_code == 0
    messages = critical + warning + resolved
    attributes = [
        {k: v["StringValue"] for k, v in m["MessageAttributes"].items()} for m in messages
    ]
    assert [(a["status"], a["severity"]) for a in attributes] == [
        ("firing", "critical"),
        ("firing", "warning"),
        ("resolved", "warning"),
    ]
    # PagerDuty pages for critical only here: the warning ends its incident, the final
    # resolve has nothing left to resolve there.
    assert [(e["event_action"], e["dedup_key"]) for e in pd.events] == [
        ("trigger", pd.events[0]["dedup_key"]),
        ("resolve", pd.events[0]["dedup_key"]),
    ]
    assert [r.status for r in pd.received] == [202, 202]
    assert [i.status for i in pd.incidents] == ["resolved"]


def test_critical_latency_inhibits_the_success_rate_warning_on_the_same_route(
    tmp_path: Path,
) -> None:
    success_rate = {
        "alert": "RouteSuccessRateLow",
        "kind": "ratio",
        "numerator": {
            "metric": "hybrid_routing.request.duration",
            "where": {"hybrid_routing.outcome": "success"},
        },
        "denominator": {"metric": "hybrid_routing.request.duration"},
        "by": ["hybrid_routing.route"],
        "window": "30s",
        "thresholds": {"warning": "< 0.95"},
    }
    inhibit = {  # as in the default rule pack
        "source_matchers": ['severity="critical"', 'hybrid_routing.route=~".+"'],
        "target_matchers": ['severity=~"warning|info"'],
        "equal": ["hybrid_routing.route"],
    }
    with moto_server() as moto, pagerduty_server() as pd:
        topic = subscribe(moto, "e2e-alerts", raw=True)
        collector = Collector(tmp_path)
        collector.configure(
            [latency_rule(window="30s"), success_rate],
            pagerduty_url=pd.url,
            sns=sns_exporter(topic.topic_arn, moto),
            connector={"inhibit_rules": [inhibit]},
        )
        collector.start()
        try:
            # One batch: slow (critical latency) and 20 % failed (success-rate warning).
            request = latency_batch(2.0, 80)
            request.MergeFrom(latency_batch(2.0, 20, outcome="error"))
            collector.export(request)
            fired = topic.receive(1, timeout=15)
            collector.export(latency_batch(0.05, 100_000))  # fast and successful again
            resolved = topic.receive(1, timeout=15)
        finally:
            exit_code = collector.stop()
        rest = topic.receive(0)
    assert exit_code == 0
    attributes = [
        {k: v["StringValue"] for k, v in m["MessageAttributes"].items()}
        for m in fired + resolved + rest
    ]
    assert [(a["alertname"], a["status"], a["severity"]) for a in attributes] == [
        ("RouteLatencyHigh", "firing", "critical"),
        ("RouteLatencyHigh", "resolved", "critical"),
    ]
    assert [e["event_action"] for e in pd.events] == ["trigger", "resolve"]
