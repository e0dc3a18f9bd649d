"""The demo's parts without running it: the demo rule pack, the overlay, the output reader,
the live view, the verdict."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import yaml

from routewatch.collector.cli import main as cli_main
from routewatch.collector.devservers.demo import Timeline
from routewatch.collector.devservers.demo import main as demo_main
from routewatch.collector.devservers.demo_config import (
    DEMO_RULES,
    DemoLayout,
    demo_rule,
    demo_rule_pack,
    latency_threshold,
)
from routewatch.collector.devservers.demo_outputs import (
    DemoOutputs,
    LineTail,
    p95,
    parse_component_counts,
)
from routewatch.collector.devservers.demo_report import episode_lines, phase_lines, verdict
from routewatch.collector.devservers.demo_view import LiveView
from routewatch.collector.otlpjson.encode import encode
from routewatch.exporters.alerts import Alert, alerts_to_request

ROOT = Path(__file__).resolve().parents[2]


def test_demo_rules_are_the_default_pack_at_demo_speed() -> None:
    rule = demo_rule(
        {
            "alert": "RouteLatencyHigh",
            "kind": "quantile",
            "window": "5m",
            "for": "2m",
            "keep_firing_for": "1m",
            "min_samples": 20,
            "thresholds": {"critical": "> 15", "warning": "> 10"},
            "clear": "< 8",
            "annotations": {"description": "p95 over 5m from {{ samples }} requests."},
        }
    )
    assert rule["window"] == "10s"
    assert rule["for"] == "4s"
    assert rule["keep_firing_for"] == "2s"
    assert rule["min_samples"] == 3
    assert rule["thresholds"] == {"critical": "> 1.5", "warning": "> 1"}
    assert rule["clear"] == "< 0.8"
    assert rule["annotations"] == {"description": "p95 over 10s from {{ samples }} requests."}
    # Ratio thresholds are fractions: not scaled.
    ratio = demo_rule({"alert": "X", "kind": "ratio", "thresholds": {"critical": "< 0.85"}})
    assert ratio["thresholds"] == {"critical": "< 0.85"}


def test_demo_rule_pack_keeps_only_its_rules_and_their_inhibitions() -> None:
    pack = demo_rule_pack()
    assert [r["alert"] for r in pack["rules"]] == list(DEMO_RULES)
    for rule in pack["rules"]:
        assert set(rule.get("inhibits", [])) <= set(DEMO_RULES)
    assert pack["inhibit_rules"]
    assert latency_threshold() == 1.5


def test_overlay_on_the_default_config_validates(tmp_path: Path) -> None:
    layout = DemoLayout.allocate(tmp_path / "out")
    layout.write()
    overlay = yaml.safe_load(layout.overlay.read_text())
    assert overlay["connectors"]["routewatch_alerts"]["rule_files"] == [str(layout.rules)]
    assert overlay["exporters"]["awsemf"]["file_path"] == str(layout.emf)
    code = cli_main(
        ["validate", "--config", str(ROOT / "otel-config.yaml"), "--config", str(layout.overlay)]
    )
    assert code == 0


def test_layout_write_clears_a_previous_runs_outputs(tmp_path: Path) -> None:
    layout = DemoLayout.allocate(tmp_path)
    layout.out_dir.mkdir(exist_ok=True)
    layout.traces.write_text("old\n")
    (layout.out_dir / "state" / "sub").mkdir(parents=True)
    (layout.out_dir / "state" / "sub" / "alerts.db").write_text("old")
    layout.write()
    assert not layout.traces.exists()
    assert not (layout.out_dir / "state").exists()
    assert layout.rules.exists()


def test_line_tail_returns_complete_lines_only(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    tail = LineTail(path)
    assert tail.new_lines() == []  # no file yet
    path.write_bytes(b'{"a": 1}\n{"b"')
    assert tail.new_lines() == [b'{"a": 1}']
    with path.open("ab") as handle:
        handle.write(b": 2}\n")
    assert tail.new_lines() == [b'{"b": 2}']
    assert tail.new_lines() == []


def test_p95_is_nearest_rank() -> None:
    assert p95([]) is None
    assert p95([float(i) for i in range(1, 101)]) == 95.0
    assert p95([0.1]) == 0.1


def _span(route: str, start: float, seconds: float) -> dict[str, object]:
    return {
        "name": "route standard",
        "startTimeUnixNano": str(int(start * 1e9)),
        "endTimeUnixNano": str(int((start + seconds) * 1e9)),
        "attributes": [{"key": "hybrid_routing.route", "value": {"stringValue": route}}],
    }


def _alert(status: str, severity: str, fingerprint: str = "f1") -> Alert:
    return Alert(
        alertname="RouteLatencyHigh",
        fingerprint=fingerprint,
        status=status,  # type: ignore[arg-type]
        severity=severity,
        labels={"hybrid_routing.route": "direct"},
        annotations={"summary": f"p95 {severity}"},
        starts_at=1_800_000_000.0,
        ends_at=1_800_000_010.0 if status == "resolved" else None,
    )


def _emf_line(route: str, counts: list[int]) -> bytes:
    doc = {
        "hybrid_routing.route": route,
        "hybrid_routing.request.duration": {
            "Values": [0.1] * len(counts),
            "Counts": counts,
            "Count": sum(counts),
            "Sum": 0.1,
            "Min": 0.1,
            "Max": 0.1,
        },
        "hybrid_routing.cost": 0.5,
        "_aws": {
            "Timestamp": 1,
            "CloudWatchMetrics": [
                {
                    "Namespace": "HybridRouting",
                    "Dimensions": [["hybrid_routing.route"]],
                    "Metrics": [
                        {"Name": "hybrid_routing.request.duration", "Unit": "Seconds"},
                        {"Name": "hybrid_routing.cost"},
                    ],
                }
            ],
        },
    }
    return json.dumps(doc).encode()


def _outputs(tmp_path: Path, alerts: list[Alert]) -> DemoOutputs:
    traces = {
        "resourceSpans": [
            {
                "scopeSpans": [
                    {
                        "spans": [
                            _span("direct", 100.0, 0.2),
                            _span("direct", 101.0, 3.0),
                            _span("mcp", 130.0, 0.1),
                            {"name": "attempt mcp"},
                        ]
                    }
                ]
            }
        ]
    }
    (tmp_path / "traces.jsonl").write_text(json.dumps(traces) + "\n")
    (tmp_path / "emf.jsonl").write_bytes(
        _emf_line("direct", [2, 1]) + b"\n" + _emf_line("mcp", [1]) + b"\nnot json\n"
    )
    (tmp_path / "alerts.jsonl").write_bytes(
        b"".join(encode(alerts_to_request([a], 1_800_000_010.0)) + b"\n" for a in alerts)
    )
    outputs = DemoOutputs(
        tmp_path / "traces.jsonl", tmp_path / "emf.jsonl", tmp_path / "alerts.jsonl"
    )
    outputs.poll(5.0)
    return outputs


def test_outputs_summarise_traces_emf_and_alerts(tmp_path: Path) -> None:
    outputs = _outputs(tmp_path, [_alert("firing", "critical")])
    assert outputs.spans == 4
    assert outputs.requests == 3
    assert sorted(outputs.route_durations["direct"]) == pytest.approx([0.2, 3.0])
    # Only the mcp request ended within 10 s of the last one.
    assert outputs.recent_durations("direct", 10.0) == []
    assert outputs.emf.duration_routes == {"direct": 3, "mcp": 1}
    assert outputs.emf.cost_usd == 1.0
    assert outputs.emf.invalid and "line 3" in outputs.emf.invalid[0]
    assert next(iter(outputs.firing().values())).severity == "critical"


def test_verdict_wants_a_critical_alert_that_resolves(tmp_path: Path) -> None:
    fired = _outputs(tmp_path, [_alert("firing", "critical")])
    problems = verdict(fired, incident=True)
    assert any("did not resolve" in p for p in problems)
    assert any("invalid EMF" in p for p in problems)
    # Downgraded to warning before it resolved: still the critical alert resolving.
    resolved = _outputs(
        tmp_path,
        [_alert("firing", "critical"), _alert("firing", "warning"), _alert("resolved", "warning")],
    )
    assert not any("critical" in p for p in verdict(resolved, incident=True))
    assert episode_lines(resolved) == [
        "  RouteLatencyHigh{hybrid_routing.route=direct}: fired critical at +5.0 s, "
        "resolved at +5.0 s"
    ]
    assert "still firing at the end" in episode_lines(fired)[0]
    assert resolved.firing() == {}
    # Another alert's resolve does not count.
    other = _outputs(tmp_path, [_alert("firing", "critical"), _alert("resolved", "critical", "f2")])
    assert any("did not resolve" in p for p in verdict(other, incident=True))
    assert not any("critical" in p for p in verdict(other, incident=False))


def test_live_view_plain_lines_when_not_a_terminal(tmp_path: Path) -> None:
    outputs = _outputs(tmp_path, [_alert("firing", "critical")])
    stream = io.StringIO()
    view = LiveView(stream, 60.0, tty=False)
    view.update(1.0, outputs, "healthy")
    view.update(2.0, outputs, "healthy")  # within PLAIN_EVERY: no new line
    text = stream.getvalue()
    assert "\x1b[" not in text
    lines = text.splitlines()
    assert lines[0].startswith("demo:   5.0 s  ALERT FIRING critical RouteLatencyHigh")
    assert lines[1].startswith("demo:   1.0 s  healthy  requests 3 (direct=2")
    assert "RouteLatencyHigh{direct} critical" in lines[1]
    assert len(lines) == 2


def test_live_view_redraws_a_table_on_a_terminal(tmp_path: Path) -> None:
    outputs = _outputs(tmp_path, [])
    stream = io.StringIO()
    view = LiveView(stream, 60.0, tty=True)
    view.update(30.0, outputs, "INCIDENT: direct path degraded")
    first = stream.getvalue()
    assert first.startswith("[###############...............]  30.0/60 s  INCIDENT")
    assert "direct             2" in first
    assert "cost so far 1.0000 USD" in first
    view.update(31.0, outputs)
    table_height = len(first.splitlines())
    assert stream.getvalue()[len(first) :].startswith(f"\x1b[{table_height}F\x1b[J")


def test_component_counts_from_internal_metrics() -> None:
    text = "\n".join(
        [
            "# TYPE otelcol_exporter_sent_spans counter",
            'otelcol_exporter_sent_spans{exporter="file/traces"} 12',
            'otelcol_exporter_send_failed_spans{exporter="file/traces"} 1',
            'otelcol_exporter_sent_log_records{exporter="file/alerts"} 3',
            'otelcol_receiver_accepted_spans{receiver="otlp",transport="grpc"} 12',
            'otelcol_exporter_queue_size{exporter="file/traces"} 0',
        ]
    )
    assert parse_component_counts(text) == {
        "file/traces": {"sent spans": 12.0, "send failed spans": 1.0},
        "file/alerts": {"sent log records": 3.0},
        "receiver otlp": {"accepted spans": 12.0},
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--duration", "5"], "--duration must be between 20 and 600"),
        (["--colour"], "unrecognized arguments: --colour"),
    ],
)
def test_demo_rejects_bad_arguments(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        demo_main(args)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_timeline_puts_the_incident_in_the_second_quarter() -> None:
    timeline = Timeline(60.0, incident=True)
    assert (timeline.incident_start, timeline.incident_length) == (15.0, 15.0)
    assert [timeline.phase(t) for t in (14.9, 15.0, 29.9, 30.0)] == [
        "healthy",
        "INCIDENT: direct path degraded",
        "INCIDENT: direct path degraded",
        "incident over",
    ]
    assert timeline.grace == 30.0
    short = Timeline(25.0, incident=True)
    assert short.incident_length == 8.0  # the minimum that fires the latency rule
    assert short.grace == 12.5
    assert Timeline(60.0, incident=False).phase(20.0) == "healthy"


def test_report_splits_routes_by_phase_of_the_incident(tmp_path: Path) -> None:
    outputs = _outputs(tmp_path, [])  # direct ends at 100.2 and 104.0, mcp at 130.1
    phases = Timeline(40.0, incident=True).phases(95.0)  # incident from 105 to 115
    assert [(name, start) for name, start, _ in phases] == [
        ("before", 95.0),
        ("during", 105.0),
        ("after", 115.0),
    ]
    lines = phase_lines(outputs, phases)
    assert lines[1].split() == ["route", "before", "during", "after"]
    assert lines[2].split() == ["direct", "2", "3.00", "s", "0", "-", "0", "-"]
    assert lines[3].split() == ["mcp", "0", "-", "0", "-", "1", "0.10", "s"]
    assert phase_lines(outputs, Timeline(40.0, incident=False).phases(95.0)) == []
