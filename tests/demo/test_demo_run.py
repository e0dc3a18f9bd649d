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


def _endpoints_then_interrupt(process: subprocess.Popen[str]) -> str:
    """Read the demo's output up to the endpoints `--keep-running` prints, check them, then
    stop the demo as a user would (Ctrl-C); returns the output read."""
    assert process.stdout is not None
    lines: list[str] = []
    try:
        while not lines or not lines[-1].startswith("  OTLP gRPC:"):
            line = process.stdout.readline()
            assert line, "".join(lines)
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
    return "".join(lines)


def test_short_demo_fires_and_resolves_the_critical_alert_and_leaves_valid_emf(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    process = subprocess.Popen(
        [*DEMO, "--duration", "25", "--pagerduty", "--keep-running", "--out", str(out)],
        cwd=ROOT,  # the demo runs the root otel-config.yaml from a checkout
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    head = ""
    try:
        head = _endpoints_then_interrupt(process)
    finally:
        rest, err = process.communicate(timeout=60)
    text = head + rest
    assert process.returncode == 0, text[-3000:] + err[-3000:]
    assert f"demo: collector config {ROOT / 'otel-config.yaml'} + " in text
    assert "ALERT FIRING critical RouteLatencyHigh" in text
    assert "by phase of the incident (requests, p95):" in text
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
    assert re.search(r"receiver otlp  accepted metric points \d+, accepted spans \d+", text)

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
        [*DEMO, "--duration", "20", "--out", str(tmp_path / "out"), "--config", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "demo: the collector exited with 1 at start" in result.stderr
    assert "processors::memory_limiter" in result.stderr
    assert "limit_mb" in result.stderr
