"""The interim demo: the sample router under `opentelemetry-instrument` against the local
servers, then a readable summary of the traces and metrics it sent.

    python -m routewatch.collector.devservers.demo [--requests N | --duration S] [--no-incident]

It starts an in-process OTLP/gRPC receiver and the local Bedrock server (in a thread), runs
the sample app as a subprocess (which spawns the MCP server over stdio), optionally degrades
the direct path for a while (throttling and extra latency, so the router falls back to MCP),
and prints the span trees and metrics received. `routewatch demo` will call `main`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
import time
from pathlib import Path

from routewatch.collector.devservers.bedrock import BedrockServer, Behaviour, bedrock_server
from routewatch.collector.devservers.instrumented import (
    app_environment,
    missing_demo_modules,
    sample_app_command,
)
from routewatch.collector.devservers.otlp_receiver import otlp_receiver
from routewatch.collector.devservers.summary import (
    render_metrics,
    render_routes,
    render_traces,
)

# The incident starts once the Bedrock server has answered this many requests.
INCIDENT_AFTER_REQUESTS = 6


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="routewatch demo",
        description="Run the sample routing app instrumented, against local servers, and "
        "summarise the telemetry it sends.",
    )
    parser.add_argument("--requests", type=int, default=60, help="requests the app sends")
    parser.add_argument(
        "--duration", type=float, default=0.0, help="run for this many seconds instead"
    )
    parser.add_argument("--no-incident", action="store_true", help="keep the direct path healthy")
    parser.add_argument("--incident-seconds", type=float, default=1.5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--max-traces", type=int, default=5, help="span trees to print")
    args = parser.parse_args(argv)
    if args.requests < 1 and not args.duration:
        parser.error("--requests must be at least 1 (or give --duration)")
    if args.duration < 0 or args.incident_seconds < 0:
        parser.error("--duration and --incident-seconds must not be negative")
    return args


def _incident(server: BedrockServer, seconds: float, stop: threading.Event) -> None:
    """Degrade the direct path once the run is under way (the server's clock ends it)."""
    while not stop.wait(0.05):
        if len(server.records()) >= INCIDENT_AFTER_REQUESTS:
            server.incident(add_latency=0.2, duration=seconds, throttle_rate=1.0)
            return


def _server_lines(server: BedrockServer) -> list[str]:
    records = server.records()
    errors: dict[str, int] = {}
    for record in records:
        if record.error:
            errors[record.error] = errors.get(record.error, 0) + 1
    detail = ", ".join(f"{k} {v}" for k, v in sorted(errors.items())) or "no errors"
    return [f"bedrock server: {len(records)} requests ({detail})"]


def run(args: argparse.Namespace) -> int:
    missing = missing_demo_modules()
    if missing:
        raise RuntimeError(
            f"missing {', '.join(missing)}: install routewatch-collector[demo] to run the demo"
        )
    started = time.monotonic()
    with (
        otlp_receiver() as receiver,
        bedrock_server(Behaviour(latency="uniform:0.005:0.03", seed=args.seed)) as server,
    ):
        app = sample_app_command(
            server.url,
            "--seed",
            str(args.seed),
            "--mcp-latency",
            "uniform:0.002:0.01",
            "--interval",
            "0.02",
        )
        app += ["--duration", str(args.duration), "--requests", "0"] if args.duration else []
        app += [] if args.duration else ["--requests", str(args.requests)]
        print(f"demo: OTLP receiver on {receiver.endpoint}, Bedrock server on {server.url}")
        if args.no_incident:
            print("demo: no incident (--no-incident)")
        else:
            print(
                f"demo: after {INCIDENT_AFTER_REQUESTS} Bedrock requests the direct path is "
                f"throttled and 0.2 s slower for {args.incident_seconds:g} s"
            )
        print(f"demo: running {' '.join(Path(a).name if i < 2 else a for i, a in enumerate(app))}")
        stop = threading.Event()
        watcher = threading.Thread(
            target=_incident, args=(server, args.incident_seconds, stop), daemon=True
        )
        if not args.no_incident:
            watcher.start()
        try:
            result = subprocess.run(
                app,
                env=app_environment(receiver.endpoint),
                capture_output=True,
                text=True,
                timeout=max(120.0, args.duration * 2 + 60),
                check=False,
            )
        finally:
            stop.set()
        print(result.stdout.rstrip())
        if result.returncode != 0:
            print(result.stderr.rstrip()[-4000:], file=sys.stderr)
            print(f"demo: the sample app exited with {result.returncode}", file=sys.stderr)
            return 1
        lines = [
            "",
            *_server_lines(server),
            *render_routes(receiver.spans()),
            "",
            *render_traces(receiver.spans(), max_trees=args.max_traces),
            "",
            *render_metrics(receiver.metric_points()),
        ]
        if not any(span.name.startswith("route ") for _, span in receiver.spans()):
            lines += [
                "",
                "note: no route spans yet: the routing instrumentation is not active in this build",
            ]
        print("\n".join(lines))
    print(f"\ndemo: done in {time.monotonic() - started:.1f} s")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    try:
        return run(args)
    except (RuntimeError, subprocess.TimeoutExpired) as err:
        print(f"demo: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
