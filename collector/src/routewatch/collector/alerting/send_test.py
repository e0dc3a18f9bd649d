"""`routewatch alerts send-test --config FILE [--receiver NAME]`: is each alert channel wired?

Sends a synthetic alert, then its resolve, through every `sns` and `pagerduty` exporter of
the config (or the one named), built by their own factories exactly as the collector builds
them, and prints per channel whether each was delivered (and how long it took) or the error.
Exit code 1 when anything failed or the config is wrong. Retries are capped at 30 s per
notification so that a dead endpoint does not hold the command for the configured 5 minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import os
import re
import socket
import sys
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

import yaml

from routewatch.collector.alerting.history import Delivery, shared_history
from routewatch.collector.component import ComponentID, CreateSettings, Factory, Kind, Signal
from routewatch.collector.confmap import Duration, decode
from routewatch.collector.errors import ConfigError
from routewatch.collector.telemetry import Telemetry
from routewatch.exporters.alerts import Alert, alerts_to_request
from routewatch.exporters.alerts.alert import SEVERITIES

MAX_RETRY_TIME = 30.0
ALERTNAME = "RoutewatchSendTest"
_ENV_REF = re.compile(r"\$\$|\$\{(?:env:)?([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_log = logging.getLogger("routewatch.send_test")
# Failures are printed per channel; the exporters' own warning lines need not repeat them.
_log.addHandler(logging.NullHandler())


def _factories() -> dict[str, Factory]:
    from routewatch.collector.exporters.pagerduty.factory import FACTORY as PAGERDUTY
    from routewatch.collector.exporters.sns.factory import FACTORY as SNS

    return {PAGERDUTY.type: PAGERDUTY, SNS.type: SNS}


def expand_env(value: Any, environ: Mapping[str, str]) -> Any:
    """`${env:VAR}`, `${VAR}`, `${env:VAR:-default}` and `$$` in every string, recursively."""
    if isinstance(value, str):

        def sub(match: re.Match[str]) -> str:
            if match.group(0) == "$$":
                return "$"
            found = environ.get(match.group(1))
            return found if found else (match.group(2) or "")

        return _ENV_REF.sub(sub, value)
    if isinstance(value, list):
        return [expand_env(v, environ) for v in value]
    if isinstance(value, dict):
        return {k: expand_env(v, environ) for k, v in value.items()}
    return value


def load_exporters(path: Path, environ: Mapping[str, str]) -> dict[str, Any]:
    """The `exporters` section of a collector config, env references expanded."""
    # TODO: use collector-core's config loader (same expansion and errors) once merged.
    try:
        raw = yaml.safe_load(path.read_text())
    except OSError as err:
        raise ConfigError(f"cannot read {path}: {err.strerror}") from err
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from err
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    exporters = raw.get("exporters") or {}
    if not isinstance(exporters, dict):
        raise ConfigError("exporters: expected a mapping")
    return {str(k): expand_env(v, environ) for k, v in exporters.items()}


class _NoExtensions:
    def get_extension(self, id: ComponentID) -> None:
        return None


def synthetic_alert(severity: str, now: float) -> Alert:
    fingerprint = f"routewatch-send-test-{uuid.uuid4().hex[:12]}"
    return Alert(
        alertname=ALERTNAME,
        fingerprint=fingerprint,
        status="firing",
        severity=severity,
        labels={"alertname": ALERTNAME, "hybrid_routing.route": "direct", "send_test": "true"},
        annotations={
            "summary": f"routewatch send-test from {socket.gethostname()}: "
            "a synthetic alert, resolved right away",
            "description": "Sent by `routewatch alerts send-test` to check this channel.",
        },
        starts_at=now,
        value=1.0,
        threshold="> 0",
        notification_id=f"{fingerprint}-trigger",
    )


@dataclasses.dataclass
class _Target:
    id: ComponentID
    factory: Factory
    raw: Any


def _targets(exporters: dict[str, Any], receiver: str | None) -> list[_Target]:
    factories = _factories()
    targets = []
    for name, raw in exporters.items():
        try:
            cid = ComponentID.parse(name)
        except ValueError as err:
            raise ConfigError(f"exporters::{name}: {err}") from err
        if cid.type in factories and (receiver is None or str(cid) == receiver):
            targets.append(_Target(cid, factories[cid.type], raw))
    if not targets:
        kinds = " or ".join(sorted(factories))
        if receiver is not None:
            alert_exporters = [n for n in exporters if ComponentID.parse(n).type in factories]
            raise ConfigError(
                f"no {kinds} exporter named {receiver!r}; configured: "
                + (", ".join(alert_exporters) or "none")
            )
        raise ConfigError(f"no {kinds} exporter in the config")
    return targets


def _config(target: _Target) -> Any:
    cfg = decode(
        type(target.factory.create_default_config()),
        target.raw,
        f"exporters::{target.id}",
        target.factory.create_default_config(),
    )
    retry = cfg.retry_on_failure
    cap = retry.max_elapsed_time if 0 < retry.max_elapsed_time <= MAX_RETRY_TIME else None
    retry = dataclasses.replace(retry, max_elapsed_time=Duration(cap or MAX_RETRY_TIME))
    # No extensions run here: the history stays in memory. No sending queue: `consume` then
    # returns once the notification went out (or failed), as the report needs.
    queue = dataclasses.replace(cfg.sending_queue, enabled=False)
    return dataclasses.replace(
        cfg, retry_on_failure=retry, sending_queue=queue, history_storage=None
    )


def _print(out: TextIO, receiver: str, action: str, width: int, text: str) -> None:
    print(f"  {receiver:<{width}}  {action:<7}  {text}", file=out)


def _describe(d: Delivery) -> str:
    timing = f"in {d.latency_s * 1000:.0f} ms"
    if d.outcome == "delivered":
        remote = "dedup_key" if d.channel == "pagerduty" else "MessageId"
        return f"delivered {timing} ({remote} {d.remote_id})"
    return f"FAILED {timing} after {d.attempts} attempt(s): {d.error or d.outcome}"


async def _send(target: _Target, cfg: Any, out: TextIO, width: int) -> bool:
    """Trigger then resolve through one exporter; True when both were delivered."""
    receiver = str(target.id)
    settings = CreateSettings(
        id=target.id, kind=Kind.EXPORTER, telemetry=Telemetry(), logger=_log, signal=Signal.LOGS
    )
    exporter = target.factory.create[Signal.LOGS](settings, cfg, None)
    severity = next(s for s in SEVERITIES if s in cfg.severities)
    trigger = synthetic_alert(severity, time.time())
    try:
        await exporter.start(_NoExtensions())
        for action in ("trigger", "resolve"):
            alert = trigger
            if action == "resolve":
                alert = dataclasses.replace(
                    trigger,
                    status="resolved",
                    ends_at=time.time(),
                    notification_id=f"{trigger.fingerprint}-resolve",
                )
            error = ""
            try:
                await exporter.consume(alerts_to_request([alert], now=time.time()))
            except Exception as err:  # the history has the details; this is the fallback
                error = str(err) or type(err).__name__
            records = [
                d
                for d in shared_history().query(fingerprint=alert.fingerprint, receiver=receiver)
                if d.notification_id == alert.notification_id
            ]
            for d in reversed(records):
                _print(out, receiver, action, width, _describe(d))
            if not records:
                _print(out, receiver, action, width, f"FAILED: {error or 'nothing was sent'}")
            if not records or any(d.outcome != "delivered" for d in records):
                if action == "trigger":
                    _print(out, receiver, "resolve", width, "skipped: the trigger failed")
                return False
        return True
    finally:
        await exporter.shutdown()


async def _run(targets: list[_Target], out: TextIO) -> int:
    width = max(len(str(t.id)) for t in targets)
    ok = True
    for target in targets:
        try:
            cfg = _config(target)
        except ConfigError as err:
            print(f"  {target.id!s:<{width}}  config  FAILED: {err}", file=out)
            ok = False
            continue
        ok = await _send(target, cfg, out, width) and ok
    return 0 if ok else 1


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="routewatch alerts send-test",
        description="Send a synthetic alert and its resolve through each alert exporter.",
    )
    parser.add_argument("--config", required=True, type=Path, help="collector config (YAML)")
    parser.add_argument("--receiver", help="only this exporter, e.g. pagerduty/eu")
    args = parser.parse_args(argv)
    try:
        targets = _targets(load_exporters(args.config, os.environ), args.receiver)
    except ConfigError as err:
        print(f"routewatch alerts send-test: {err}", file=sys.stderr)
        return 1
    print(f"routewatch alerts send-test: {len(targets)} alert exporter(s)")
    return asyncio.run(_run(targets, sys.stdout))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
