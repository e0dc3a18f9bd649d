"""`routewatch`: run, validate and list the collector; delegate `demo` and `alerts`.

Config errors print one line naming the key path and exit 1, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import sys
from collections.abc import Sequence

import yaml

from routewatch.collector.config import load_config
from routewatch.collector.config.model import SECTIONS, Config
from routewatch.collector.confmap import duration_from
from routewatch.collector.default_config import packaged_config
from routewatch.collector.errors import ConfigError
from routewatch.collector.registry import Registry
from routewatch.collector.telemetry import Telemetry

# Subcommands implemented elsewhere: (argv prefix) -> "module:function", function(argv) -> int.
DELEGATES: dict[tuple[str, ...], str] = {
    ("demo",): "routewatch.collector.devservers.demo:main",
    ("alerts", "test"): "routewatch.collector.alerting.unittest_cli:main",
    ("alerts", "send-test"): "routewatch.collector.alerting.send_test:main",
}
_LOG_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="routewatch", description="The routewatch collector (OpenTelemetry Collector schema)."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, help_text in (
        ("run", "run the collector until SIGTERM/SIGINT"),
        ("validate", "check a config: resolve, validate, build the pipelines, start nothing"),
    ):
        cmd = sub.add_parser(name, help=help_text)
        cmd.add_argument(
            "--config",
            action="append",
            metavar="FILE",
            help="config file; repeat to merge (maps merge, lists replace, later wins); "
            "none: the embedded default (otel-config.yaml)",
        )
        if name == "run":
            cmd.add_argument(
                "--shutdown-timeout",
                default="10s",
                help="how long to drain queues on shutdown (Go duration, default 10s)",
            )
    sub.add_parser("components", help="list the component types by kind with stability")
    sub.add_parser("demo", help="run the local demo (routewatch.collector.devservers)")
    alerts = sub.add_parser("alerts", help="alert rule tools")
    alerts.add_argument("action", choices=["test", "send-test"])
    return parser


def main(argv: Sequence[str] | None = None, registry: Registry | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    for prefix, target in DELEGATES.items():
        if tuple(args_list[: len(prefix)]) == prefix:
            return _delegate(" ".join(prefix), target, args_list[len(prefix) :])
    args = _parser().parse_args(args_list)
    registry = registry or Registry()
    if args.command == "components":
        return _components(registry)
    if not args.config:
        args.config = [str(packaged_config())]
        print(
            f"routewatch: no --config, using the embedded default {args.config[0]}", file=sys.stderr
        )
    try:
        config = load_config(args.config, registry)
        if args.command == "validate":
            _build(config)
            print("config is valid", file=sys.stderr)
            return 0
        timeout = float(duration_from(args.shutdown_timeout))
    except ConfigError as err:
        print(f"routewatch: invalid configuration: {err}", file=sys.stderr)
        return 1
    except ValueError as err:
        print(f"routewatch: {err}", file=sys.stderr)
        return 1
    _configure_logging(config)
    from routewatch.collector.service.run import run

    try:
        return asyncio.run(run(config, timeout))
    except ConfigError as err:  # raised while building the pipelines
        print(f"routewatch: invalid configuration: {err}", file=sys.stderr)
        return 1


def _build(config: Config) -> None:
    """Build the pipeline graph (creates every component, starts nothing)."""
    from routewatch.collector.service.graph import build_graph

    build_graph(config, Telemetry())


def _configure_logging(config: Config) -> None:
    level = _LOG_LEVELS.get(config.telemetry.logs.level, logging.ERROR)
    logging.basicConfig(
        level=level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def _components(registry: Registry) -> int:
    out: dict[str, list[dict[str, object]]] = {}
    for kind, section in SECTIONS.items():
        entries = []
        for type_ in registry.types(kind):
            factory = registry.factory(kind, type_)
            assert factory is not None
            stability = {
                ("->".join(k) if isinstance(k, tuple) else str(k)): str(v)
                for k, v in factory.stability.items()
            }
            entry: dict[str, object] = {"name": type_, "stability": stability}
            if factory.type != type_:
                entry["alias_of"] = factory.type
            entries.append(entry)
        out[section] = entries
    print(yaml.safe_dump(out, sort_keys=False), end="")
    return 0


def _delegate(command: str, target: str, argv: list[str]) -> int:
    module_name, _, func_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name and module_name.startswith(err.name):
            print(
                f"routewatch: `{command}` is not available: {module_name} is not installed",
                file=sys.stderr,
            )
            return 1
        raise
    result = getattr(module, func_name)(argv)
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
