"""`routewatch demo` end to end, in a short mode: the collector, the local Bedrock and MCP
servers and the instrumented sample router, as `make demo` runs them."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from exporters.emf.emf_validator import metric_names, validate

ROOT = Path(__file__).resolve().parents[2]
DEMO = [sys.executable, "-m", "routewatch.collector.cli", "demo"]


def test_short_demo_fires_and_resolves_the_critical_alert_and_leaves_valid_emf(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    result = subprocess.run(
        [*DEMO, "--duration", "25", "--pagerduty", "--out", str(out)],
        cwd=ROOT,  # the demo runs the root otel-config.yaml from a checkout
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    text = result.stdout
    assert f"demo: collector config {ROOT / 'otel-config.yaml'} + " in text
    assert "ALERT FIRING critical RouteLatencyHigh" in text
    assert "ALERT RESOLVED" in text
    timeline = text.split("alert timeline (")[1].split("critical alerts:")[0]
    assert "firing   critical RouteLatencyHigh" in timeline
    assert "resolved" in timeline
    episodes = text.split("critical alerts:")[1].split("written:")[0]
    assert re.search(
        r"RouteLatencyHigh\{hybrid_routing.route=\w+\}: fired critical at \+[\d.]+ s, "
        r"resolved at \+[\d.]+ s",
        episodes,
    ), episodes
    # The local PagerDuty server got the critical alert's incident, and its resolve.
    pagerduty = text.split("pagerduty (local server ")[1].split("written:")[0]
    assert re.search(r"#\d+ resolved  critical dedup_key [0-9a-f]{16}: p95 latency", pagerduty)
    assert f"EMF log        {out / 'emf.jsonl'}" in text
    assert "file/traces    sent spans" in text

    histograms: dict[str, int] = {}
    lines = (out / "emf.jsonl").read_bytes().splitlines()
    assert lines
    for line in lines:
        root = validate(line)
        if "hybrid_routing.request.duration" in metric_names(root):
            value = root["hybrid_routing.request.duration"]
            assert len(value["Values"]) == len(value["Counts"])
            route = root["hybrid_routing.route"]
            histograms[route] = histograms.get(route, 0) + sum(value["Counts"])
    assert {"direct", "mcp", "cache"} <= set(histograms), histograms
    assert (out / "alerts.jsonl").read_text().count("RouteLatencyHigh") >= 2
    assert (out / "traces.jsonl").stat().st_size > 0


def test_demo_names_the_component_that_failed_to_start(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text((ROOT / "otel-config.yaml").read_text().replace("limit_mib:", "limit_mb:"))
    result = subprocess.run(
        [*DEMO, "--duration", "10", "--out", str(tmp_path / "out"), "--config", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "demo: the collector exited with 1 at start" in result.stderr
    assert "processors::memory_limiter" in result.stderr
    assert "limit_mb" in result.stderr


def test_keep_running_leaves_the_collector_up_until_interrupted(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [*DEMO, "--duration", "10", "--no-incident", "--keep-running", "--out", str(tmp_path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    try:
        lines: list[str] = []
        while not lines or not lines[-1].startswith("  OTLP gRPC:"):
            line = process.stdout.readline()
            assert line, "".join(lines) + (process.stderr.read() if process.stderr else "")
            lines.append(line)
        endpoints = {
            name.strip(): url.strip()
            for name, _, url in (line.partition(": ") for line in lines[-4:])
        }
        with urllib.request.urlopen(endpoints["health"], timeout=5) as response:
            assert response.status == 200
        with urllib.request.urlopen(endpoints["alert API"], timeout=5) as response:
            assert isinstance(json.loads(response.read()), list)
        with urllib.request.urlopen(endpoints["internal metrics"], timeout=5) as response:
            assert b"otelcol_receiver_accepted_spans" in response.read()
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "no critical RouteLatencyHigh" in out
    assert "ALERT FIRING critical" not in out
