"""The whole system: the sample routing app under `opentelemetry-instrument` -> OTLP/gRPC ->
`routewatch run` (otlp -> routewatch_alerts -> logs -> pagerduty + sns) -> the local PagerDuty
server and an SNS topic on moto, read back through an SQS subscription.

A latency incident on the local Bedrock server slows the direct path (emergency requests,
whose only path is direct) for longer than the rule's window: direct p95 crosses the critical
threshold, one trigger reaches both channels; when the incident is over the window fills with
fast requests again and one resolve follows on both.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import orjson
from alerting.e2e.collector_proc import Collector, count, latency_rule, sns_exporter, wait
from support.moto import moto_server
from support.sns_sqs import subscribe

from routewatch.collector.devservers.bedrock.server import bedrock_server
from routewatch.collector.devservers.instrumented import app_environment, sample_app_command
from routewatch.collector.devservers.pagerduty_server import PagerDutyServer, pagerduty_server

THRESHOLD = 1.0  # seconds of direct p95; healthy requests take tens of milliseconds
ADD_LATENCY = 1.5
WINDOW = 5.0
# Longer than the window: while it lasts the window holds only slow requests.
INCIDENT = WINDOW + 1.0


def _wait(pd: PagerDutyServer, action: str, app: subprocess.Popen[bytes], c: Collector) -> None:
    wait(
        pd,
        lambda s: count(s, action) >= 1 or app.poll() is not None,
        f"the {action}",
        c,
        timeout=25,
    )
    assert app.poll() is None, f"the sample app exited {app.returncode}"


def test_direct_latency_incident_pages_once_and_resolves_once_on_pagerduty_and_sns(
    tmp_path: Path,
) -> None:
    with moto_server() as moto, pagerduty_server() as pd, bedrock_server() as bedrock:
        topic = subscribe(moto, "e2e-hybrid-routing-alerts")
        collector = Collector(tmp_path)
        collector.configure(
            [
                latency_rule(
                    THRESHOLD, window=f"{WINDOW:g}s", for_="1s", clear=f"< {THRESHOLD / 2:g}"
                )
            ],
            pagerduty_url=pd.url,
            sns=sns_exporter(topic.topic_arn, moto),
        )
        collector.start()
        app = subprocess.Popen(
            sample_app_command(
                bedrock.url,
                *("--operations", "emergency", "--requests", "0", "--duration", "55"),
                *("--interval", "0.05"),
            ),
            env=app_environment(collector.endpoint, extra={"OTEL_TRACES_EXPORTER": "none"}),
            stdout=subprocess.DEVNULL,
            stderr=(tmp_path / "app.log").open("wb"),
        )
        try:
            # Healthy traffic first (the app imports, starts its MCP server, then sends).
            deadline = time.monotonic() + 30
            while len(bedrock.records()) < 20 and time.monotonic() < deadline:
                assert app.poll() is None, (tmp_path / "app.log").read_text()
                time.sleep(0.1)
            assert pd.events == []  # healthy: nothing pages
            bedrock.incident(add_latency=ADD_LATENCY, duration=INCIDENT)
            _wait(pd, "trigger", app, collector)
            _wait(pd, "resolve", app, collector)
            messages = topic.receive(2, timeout=15)
        finally:
            app.terminate()
            app.wait(timeout=15)
            exit_code = collector.stop()
        messages += topic.receive(0)  # anything sent until the collector stopped
    assert exit_code == 0

    # PagerDuty: every request valid per the spec (the server answers 400 otherwise).
    assert [r.status for r in pd.received] == [202, 202]
    trigger, resolve = pd.events
    assert (trigger["event_action"], resolve["event_action"]) == ("trigger", "resolve")
    assert trigger["dedup_key"] == resolve["dedup_key"]
    payload = trigger["payload"]
    assert payload["severity"] == "critical"
    assert payload["summary"].startswith("p95 latency of direct is ")
    details = payload["custom_details"]
    assert details["labels"] == {
        "alertname": "RouteLatencyHigh",
        "hybrid_routing.route": "direct",
        "team": "routing",
    }
    assert details["value"] > THRESHOLD and details["threshold"] == f"> {THRESHOLD:g}"
    assert trigger["links"][0] == {
        "href": "https://example.com/runbooks/route-latency",
        "text": "Runbook",
    }
    (incident,) = pd.incidents
    assert incident.status == "resolved"

    # SNS: one trigger and one resolve, read back through the SQS subscription.
    envelopes = [orjson.loads(m["Body"]) for m in messages]
    attributes = [{k: v["Value"] for k, v in e["MessageAttributes"].items()} for e in envelopes]
    assert [a["status"] for a in attributes] == ["firing", "resolved"]
    assert {(a["severity"], a["alertname"], a["route"]) for a in attributes} == {
        ("critical", "RouteLatencyHigh", "direct")
    }
    bodies = [orjson.loads(e["Message"]) for e in envelopes]
    assert {b["fingerprint"] for b in bodies} == {trigger["dedup_key"]}
