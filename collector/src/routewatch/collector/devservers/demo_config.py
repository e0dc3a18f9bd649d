"""What the demo runs the collector with: the default config plus a demo overlay.

The overlay (a second `--config`, written next to the demo's outputs) changes only what a
one-minute run on a shared machine needs:

- free ports on 127.0.0.1 instead of 4317/4318/13133/8888/9094;
- every output file under the demo's output directory;
- the alert connector evaluating every second and flushing alert groups within seconds;
- a demo rule pack: the default pack's route rules with time scaled by 1/30 (a 5m window
  becomes 10s, `for: 2m` 4s) and latency thresholds by 1/10 (critical p95 > 1.5 s), so that
  an incident of a few seconds fires and resolves the same rules a real one would.
"""

from __future__ import annotations

import re
import shutil
import socket
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from routewatch.collector.confmap import duration_from
from routewatch.collector.default_config import CONFIG_NAME, packaged_config

DEFAULT_RULES = "rules/default.yaml"
# The default pack's rules that show something in a minute of traffic (the others need hours
# of baseline or minutes of silence).
DEMO_RULES = ("RouteLatencyHigh", "RouteSuccessRateLow", "FallbackRateHigh")
# Any well-formed key: the local PagerDuty server accepts every 32-character key.
DEMO_PAGERDUTY_KEY = "routewatch-demo-routing-key-0001"
TIME_SCALE = 1 / 30
LATENCY_SCALE = 1 / 10
DEMO_MIN_SAMPLES = 3
_DURATION_KEYS = ("window", "for", "keep_firing_for", "baseline_window")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def default_config() -> Path:
    """`./otel-config.yaml` when run from a checkout, else the packaged copy."""
    local = Path(CONFIG_NAME)
    return local.resolve() if local.is_file() else packaged_config()


def _default_pack() -> dict[str, Any]:
    text = resources.files("routewatch.collector.alerting").joinpath(DEFAULT_RULES).read_text()
    pack: dict[str, Any] = yaml.safe_load(text)
    return pack


def _scaled_duration(value: Any) -> str:
    seconds = float(duration_from(value)) * TIME_SCALE
    return f"{max(1, round(seconds))}s"


def _scaled_threshold(text: str) -> str:
    return _NUMBER.sub(lambda m: f"{float(m.group()) * LATENCY_SCALE:g}", text)


def demo_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """One rule of the default pack at demo speed (and, for latency, demo size)."""
    out = dict(rule)
    for key in _DURATION_KEYS:
        if key in out:
            out[key] = _scaled_duration(out[key])
    if "window" in rule and "annotations" in out:
        # The texts say "over 5m": make them say the window the demo uses.
        before, after = f"over {rule['window']}", f"over {out['window']}"
        out["annotations"] = {k: v.replace(before, after) for k, v in out["annotations"].items()}
    if "min_samples" in out:
        out["min_samples"] = min(int(out["min_samples"]), DEMO_MIN_SAMPLES)
    if out.get("kind") == "quantile":
        out["thresholds"] = {k: _scaled_threshold(v) for k, v in out["thresholds"].items()}
        if "clear" in out:
            out["clear"] = _scaled_threshold(out["clear"])
    return out


def demo_rule_pack() -> dict[str, Any]:
    """The default pack's DEMO_RULES at demo speed, with the pack's inhibit rules."""
    pack = _default_pack()
    rules = [demo_rule(r) for r in pack["rules"] if r["alert"] in DEMO_RULES]
    for rule in rules:
        if "inhibits" in rule:
            rule["inhibits"] = [name for name in rule["inhibits"] if name in DEMO_RULES]
            if not rule["inhibits"]:
                del rule["inhibits"]
    return {"rules": rules, "inhibit_rules": pack.get("inhibit_rules", [])}


def _latency_rule() -> dict[str, Any]:
    for rule in demo_rule_pack()["rules"]:
        if rule["alert"] == "RouteLatencyHigh":
            return rule
    raise LookupError("RouteLatencyHigh is not in the default rule pack")


def latency_threshold(severity: str = "critical") -> float:
    """The demo pack's p95 threshold (seconds) for RouteLatencyHigh at `severity`."""
    return float(_NUMBER.findall(_latency_rule()["thresholds"][severity])[0])


def latency_window() -> float:
    """The demo pack's RouteLatencyHigh window, seconds."""
    return float(duration_from(_latency_rule()["window"]))


@dataclass(frozen=True)
class DemoLayout:
    """Where the demo's collector listens and writes."""

    out_dir: Path
    grpc_port: int
    http_port: int
    health_port: int
    metrics_port: int
    alerts_api_port: int

    @classmethod
    def allocate(cls, out_dir: Path) -> DemoLayout:
        return cls(out_dir.resolve(), *(free_port() for _ in range(5)))

    @property
    def otlp_grpc(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    @property
    def health_url(self) -> str:
        return f"http://127.0.0.1:{self.health_port}/"

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    @property
    def alerts_url(self) -> str:
        return f"http://127.0.0.1:{self.alerts_api_port}/api/v2/alerts"

    @property
    def traces(self) -> Path:
        return self.out_dir / "traces.jsonl"

    @property
    def alerts(self) -> Path:
        return self.out_dir / "alerts.jsonl"

    @property
    def emf(self) -> Path:
        return self.out_dir / "emf.jsonl"

    @property
    def rules(self) -> Path:
        return self.out_dir / "demo-rules.yaml"

    @property
    def overlay(self) -> Path:
        return self.out_dir / "demo-overlay.yaml"

    @property
    def collector_log(self) -> Path:
        return self.out_dir / "collector.log"

    def overlay_config(self, pagerduty_url: str = "") -> dict[str, Any]:
        """The overlay; with `pagerduty_url`, alerts also go to a `pagerduty` exporter there."""
        overlay = self._overlay()
        if pagerduty_url:
            overlay["exporters"]["pagerduty"] = {
                "routing_key": DEMO_PAGERDUTY_KEY,
                "url": pagerduty_url,
                "source": "routewatch-demo",
            }
            overlay["service"]["pipelines"] = {
                "logs/alerts": {
                    "receivers": ["routewatch_alerts"],
                    "exporters": ["file/alerts", "debug/alerts", "pagerduty"],
                }
            }
        return overlay

    def _overlay(self) -> dict[str, Any]:
        return {
            "receivers": {
                "otlp": {
                    "protocols": {
                        "grpc": {"endpoint": self.otlp_grpc},
                        "http": {"endpoint": f"127.0.0.1:{self.http_port}"},
                    }
                }
            },
            "connectors": {
                "routewatch_alerts": {
                    "rule_files": [str(self.rules)],
                    "evaluation_interval": "1s",
                    "group_wait": "1s",
                    "group_interval": "2s",
                    "endpoint": f"127.0.0.1:{self.alerts_api_port}",
                }
            },
            "exporters": {
                "file/traces": {"path": str(self.traces)},
                "file/alerts": {"path": str(self.alerts)},
                "awsemf": {"file_path": str(self.emf)},
            },
            "extensions": {
                "health_check": {"endpoint": f"127.0.0.1:{self.health_port}"},
                "file_storage": {"directory": str(self.out_dir / "state")},
            },
            "service": {"telemetry": {"metrics": {"address": f"127.0.0.1:{self.metrics_port}"}}},
        }

    def write(self, pagerduty_url: str = "") -> None:
        """Write the demo rule pack and the overlay (empties the output files' directory of
        a previous run's outputs first, so the report counts this run only)."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        for path in (self.traces, self.alerts, self.emf, self.collector_log):
            path.unlink(missing_ok=True)
        # A previous run's alert state would carry its alerts into this one.
        shutil.rmtree(self.out_dir / "state", ignore_errors=True)
        header = "# Written by `routewatch demo`: {}\n"
        self.rules.write_text(
            header.format("the default rule pack at demo speed (see demo_config.py)")
            + yaml.safe_dump(demo_rule_pack(), sort_keys=False)
        )
        self.overlay.write_text(
            header.format("the demo's overlay on the default config")
            + yaml.safe_dump(self.overlay_config(pagerduty_url), sort_keys=False)
        )


def free_port() -> int:
    """A port free on 127.0.0.1 now (the collector binds it a moment later)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
