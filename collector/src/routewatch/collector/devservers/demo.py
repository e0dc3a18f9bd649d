"""`routewatch demo`: the whole pipeline on one machine, with no cloud account.

    routewatch demo [--duration 60] [--no-incident] [--keep-running] [--pagerduty]
                    [--out DIR] [--config FILE]

It starts the collector (`routewatch run` with the default config plus a demo overlay, see
demo_config.py) and waits for its health check, the local Bedrock-compatible server, and the
sample support router under `opentelemetry-instrument` (which spawns the MCP server over
stdio), sending OTLP to the collector. The router gets mixed traffic for `--duration` seconds.
From a quarter to half of the run the direct path is degraded at the Bedrock server (every
call far slower than the p95 threshold, most of them throttled), so the router falls back to
MCP, RouteLatencyHigh fires as critical, and it resolves once the route has recovered; the
demo keeps traffic going a little longer if an alert is still firing at the end. A live view
shows what the collector wrote; a report follows. With `--pagerduty` the alerts also go to
the local PagerDuty Events API v2 server, whose incidents the report lists.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import ExitStack, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from routewatch.collector.devservers.bedrock import BedrockServer, Behaviour, bedrock_server
from routewatch.collector.devservers.demo_config import (
    DemoLayout,
    default_config,
    latency_threshold,
)
from routewatch.collector.devservers.demo_outputs import DemoOutputs, component_counts
from routewatch.collector.devservers.demo_report import (
    pagerduty_verdict,
    report_lines,
    verdict,
)
from routewatch.collector.devservers.demo_view import LiveView
from routewatch.collector.devservers.instrumented import (
    app_environment,
    missing_demo_modules,
    sample_app_command,
)
from routewatch.collector.devservers.pagerduty_server import PagerDutyServer, pagerduty_server

HEALTH_TIMEOUT = 30.0
APP_START_TIMEOUT = 45.0
TICK = 0.5  # seconds between polls of the outputs
# The incident: how much slower every direct call gets (x the critical p95 threshold) and
# the share of calls throttled.
INCIDENT_LATENCY_FACTOR = 1.6
INCIDENT_THROTTLE_RATE = 0.6
MIN_INCIDENT = 8.0
# Extra traffic (share of --duration, at most MAX_GRACE s) while an alert still fires.
GRACE_SHARE = 0.5
MAX_GRACE = 30.0
# Pause between requests: a steady few requests a second, light on a 2-core machine.
REQUEST_INTERVAL = 0.05


class DemoError(RuntimeError):
    """A component did not start or failed; the message says which and where to look."""


@dataclass(frozen=True)
class Timeline:
    duration: float
    incident: bool

    @property
    def incident_start(self) -> float:
        return self.duration * 0.25

    @property
    def incident_length(self) -> float:
        # At least MIN_INCIDENT: enough slow calls (2.4 s each, one at a time) to carry the
        # p95 of the 10 s window over the threshold for the rule's `for`.
        return max(self.duration * 0.25, MIN_INCIDENT)

    def phase(self, elapsed: float) -> str:
        """What the traffic meets at `elapsed` seconds, for the live view."""
        if not self.incident or elapsed < self.incident_start:
            return "healthy"
        if elapsed < self.incident_start + self.incident_length:
            return "INCIDENT: direct path degraded"
        return "incident over"

    def phases(self, start: float) -> list[tuple[str, float, float]]:
        """(name, from, to) in the clock of `start` (the traffic's start): before, during
        and after the incident; empty without one."""
        if not self.incident:
            return []
        begin = start + self.incident_start
        end = begin + self.incident_length
        return [("before", start, begin), ("during", begin, end), ("after", end, float("inf"))]

    @property
    def grace(self) -> float:
        return min(MAX_GRACE, self.duration * GRACE_SHARE)


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="routewatch demo",
        description="Run the collector, local Bedrock and MCP servers and an instrumented "
        "sample router; inject an incident on the direct path and watch the alert fire and "
        "resolve.",
    )
    parser.add_argument(
        "--duration", type=float, default=60.0, help="seconds of traffic (default 60)"
    )
    parser.add_argument("--no-incident", action="store_true", help="keep the direct path healthy")
    parser.add_argument(
        "--keep-running",
        action="store_true",
        help="leave the collector up at the end and print its endpoints (Ctrl-C stops it)",
    )
    parser.add_argument(
        "--pagerduty",
        action="store_true",
        help="also send alerts to a local PagerDuty-compatible server and report its incidents",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("routewatch-demo"),
        help="directory for the collector's outputs (default ./routewatch-demo)",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="collector config with the default's component ids (default ./otel-config.yaml, "
        "else the packaged default)",
    )
    parser.add_argument(
        "--seed", type=int, default=7, help="seed of the traffic mix and the servers' latencies"
    )
    args = parser.parse_args(argv)
    if not 20 <= args.duration <= 600:
        parser.error("--duration must be between 20 and 600 seconds")
    return args


def _wait_healthy(process: subprocess.Popen[bytes], layout: DemoLayout) -> None:
    deadline = time.monotonic() + HEALTH_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise DemoError(
                f"the collector exited with {process.returncode} at start; "
                f"see {layout.collector_log}:\n{_tail(layout.collector_log)}"
            )
        try:
            with urllib.request.urlopen(layout.health_url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise DemoError(
        f"the collector was not healthy at {layout.health_url} within {HEALTH_TIMEOUT:g} s; "
        f"see {layout.collector_log}"
    )


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _start_collector(config: Path, layout: DemoLayout, log: IO[bytes]) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "routewatch.collector.cli",
        "run",
        "--config",
        str(config),
        "--config",
        str(layout.overlay),
    ]
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=layout.out_dir)


def _stop(process: subprocess.Popen[bytes], sig: int, timeout: float) -> int:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


def _incident(
    server: BedrockServer, timeline: Timeline, traffic: threading.Event, stop: threading.Event
) -> None:
    """Degrade the direct path `incident_start` seconds after the traffic began."""
    while not traffic.wait(0.2):
        if stop.is_set():
            return
    if stop.wait(timeline.incident_start):
        return
    server.incident(
        add_latency=round(latency_threshold() * INCIDENT_LATENCY_FACTOR, 3),
        duration=timeline.incident_length,
        throttle_rate=INCIDENT_THROTTLE_RATE,
    )


def _start_app(
    server: BedrockServer, layout: DemoLayout, timeline: Timeline, seed: int, log: IO[bytes]
) -> subprocess.Popen[bytes]:
    try:
        command = _app_command(server.url, timeline, seed)
    except RuntimeError as err:  # opentelemetry-instrument missing
        raise DemoError(str(err)) from err
    return subprocess.Popen(
        command, env=app_environment(layout.otlp_grpc), stdout=log, stderr=subprocess.STDOUT
    )


def _app_command(bedrock_url: str, timeline: Timeline, seed: int) -> list[str]:
    return sample_app_command(
        bedrock_url,
        "--seed",
        str(seed),
        "--mcp-latency",
        "uniform:0.02:0.1",
        "--interval",
        str(REQUEST_INTERVAL),
        "--requests",
        "0",
        "--duration",
        # The demo stops it (SIGINT); this bounds a run whose demo died.
        str(timeline.duration + timeline.grace + HEALTH_TIMEOUT + 60),
    )


def _incident_plan(timeline: Timeline) -> str:
    if not timeline.incident:
        return "demo: no incident (--no-incident)"
    add = latency_threshold() * INCIDENT_LATENCY_FACTOR
    return (
        f"demo: at {timeline.incident_start:.0f} s the direct path gets {add:.1f} s slower and "
        f"{INCIDENT_THROTTLE_RATE:.0%} throttled for {timeline.incident_length:.0f} s "
        f"(critical p95: > {latency_threshold():g} s)"
    )


def run(args: argparse.Namespace) -> int:
    missing = missing_demo_modules()
    if missing:
        raise DemoError(
            f"missing {', '.join(missing)}: install routewatch-collector[demo] to run the demo"
        )
    config = (args.config or default_config()).resolve()
    if not config.is_file():
        raise DemoError(f"config file {config} not found")
    layout = DemoLayout.allocate(args.out)
    timeline = Timeline(args.duration, not args.no_incident)
    view = LiveView(sys.stdout, timeline.duration)
    outputs = DemoOutputs(layout.traces, layout.emf, layout.alerts)
    started = time.monotonic()
    pagerduty: PagerDutyServer | None = None
    with ExitStack() as stack:
        if args.pagerduty:
            pagerduty = stack.enter_context(pagerduty_server(rate_limit_per_minute=0))
            print(f"demo: local PagerDuty Events API v2 server on {pagerduty.url}")
        layout.write(pagerduty.url if pagerduty else "")
        print(f"demo: collector config {config} + {layout.overlay}; outputs in {layout.out_dir}")
        log = stack.enter_context(layout.collector_log.open("wb"))
        collector = _start_collector(config, layout, log)
        stack.callback(_stop, collector, signal.SIGTERM, 20.0)
        _wait_healthy(collector, layout)
        print(f"demo: collector healthy ({layout.health_url}), OTLP on {layout.otlp_grpc}")
        server = stack.enter_context(
            bedrock_server(Behaviour(latency="uniform:0.02:0.08", seed=args.seed))
        )
        print(f"demo: Bedrock-compatible server on {server.url}")
        app_log = stack.enter_context((layout.out_dir / "app.log").open("wb"))
        app = _start_app(server, layout, timeline, args.seed, app_log)
        stack.callback(_stop, app, signal.SIGINT, 10.0)
        print("demo: sample router started under opentelemetry-instrument (MCP server over stdio)")
        print(_incident_plan(timeline))
        stop, traffic = threading.Event(), threading.Event()
        stack.callback(stop.set)
        if timeline.incident:
            threading.Thread(
                target=_incident, args=(server, timeline, traffic, stop), daemon=True
            ).start()
        t0, t0_wall = _drive(app, server, outputs, view, timeline, traffic, layout)
        _stop(app, signal.SIGINT, 10.0)
        time.sleep(2.5)  # the app's last metric export, the batch and EMF flushes
        counts = component_counts(layout.metrics_url)
        outputs.poll(time.monotonic() - t0)
        if args.keep_running:
            _keep_running(collector, layout)
        code = _stop(collector, signal.SIGTERM, 20.0)
        outputs.poll(time.monotonic() - t0)
    elapsed = time.monotonic() - started
    phases = timeline.phases(t0_wall)
    report = report_lines(outputs, counts, layout, server.records(), elapsed, pagerduty, phases)
    print("\n".join(report))
    problems = verdict(outputs, timeline.incident)
    if pagerduty is not None and timeline.incident:
        problems += pagerduty_verdict(outputs, pagerduty)
    if code not in (0, -signal.SIGTERM):
        problems.append(f"the collector exited with {code}; see {layout.collector_log}")
    for problem in problems:
        print(f"demo: FAILED: {problem}", file=sys.stderr)
    return 1 if problems else 0


def _drive(
    app: subprocess.Popen[bytes],
    server: BedrockServer,
    outputs: DemoOutputs,
    view: LiveView,
    timeline: Timeline,
    traffic: threading.Event,
    layout: DemoLayout,
) -> tuple[float, float]:
    """Poll the outputs and redraw the view until the run is over: `duration` seconds after
    the first request reached the Bedrock server, once no alert fires (or the grace time is
    spent). The app's start-up (imports, the MCP server) is not part of the timeline.
    Returns when the traffic began: monotonic and wall-clock time."""
    app_started = time.monotonic()
    t0: float | None = None
    t0_wall = 0.0
    while True:
        time.sleep(TICK)
        if t0 is None and server.records():
            t0, t0_wall = time.monotonic(), time.time()
            traffic.set()
        now = 0.0 if t0 is None else time.monotonic() - t0
        outputs.poll(now)
        view.update(now, outputs, timeline.phase(now) if t0 is not None else "starting")
        if app.poll() is not None:
            if now < timeline.duration:
                raise DemoError(
                    f"the sample app exited early with {app.returncode}; see "
                    f"{layout.out_dir / 'app.log'}:\n{_tail(layout.out_dir / 'app.log')}"
                )
            break
        if t0 is None and time.monotonic() - app_started > APP_START_TIMEOUT:
            raise DemoError(
                f"the sample app sent no request within {APP_START_TIMEOUT:g} s; see "
                f"{layout.out_dir / 'app.log'}"
            )
        if now >= timeline.duration and (
            not outputs.firing() or now >= timeline.duration + timeline.grace
        ):
            break
    view.finish()
    assert t0 is not None  # the loop only ends after `duration` seconds of traffic
    return t0, t0_wall


def _keep_running(collector: subprocess.Popen[bytes], layout: DemoLayout) -> None:
    print(
        "\n".join(
            [
                "demo: the collector keeps running (Ctrl-C stops it):",
                f"  health:           {layout.health_url}",
                f"  internal metrics: {layout.metrics_url}",
                f"  alert API:        {layout.alerts_url}",
                f"  OTLP gRPC:        {layout.otlp_grpc}",
            ]
        ),
        flush=True,
    )
    with suppress(KeyboardInterrupt):
        collector.wait()


def main(argv: list[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    try:
        return run(args)
    except DemoError as err:
        print(f"demo: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("demo: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
