"""Shared pieces for the alert engine tests: a fake clock, a recording next consumer, a
storage extension over real SQLite, and OTLP batches of routing metrics."""

from __future__ import annotations

import bisect
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from support.clocks import ManualClock

from routewatch.collector.alerting.otlp_build import PointSpec, metrics_request
from routewatch.collector.component import ComponentID, CreateSettings, Data, Kind
from routewatch.collector.confmap import decode
from routewatch.collector.connectors.routewatch_alerts.config import Config
from routewatch.collector.connectors.routewatch_alerts.connector import AlertsConnector
from routewatch.collector.errors import RetryableError
from routewatch.collector.storage import SQLiteStorageClient
from routewatch.collector.telemetry import Telemetry
from routewatch.exporters.alerts import Alert, alerts_from_request
from routewatch.instrumentation.semconv import (
    DURATION_BUCKETS,
    HYBRID_ROUTING_OUTCOME,
    HYBRID_ROUTING_REQUEST_DURATION,
    HYBRID_ROUTING_ROUTE,
)

T0 = 1_800_000_000.0
TRACE = "0af7651916cd43dd8448eb211c80319c"


def engine_clock() -> ManualClock:
    """The alert tests' clock: wall seconds from T0, moved by hand."""
    return ManualClock(T0)


class Recorder:
    """A next consumer that records the alerts it receives; `fail` makes it refuse."""

    def __init__(self) -> None:
        self.requests: list[ExportLogsServiceRequest] = []
        self.fail = False

    async def consume(self, data: Data) -> None:
        if self.fail:
            raise RetryableError("backend down")
        assert isinstance(data, ExportLogsServiceRequest)
        self.requests.append(data)

    @property
    def alerts(self) -> list[Alert]:
        return [a for r in self.requests for a in alerts_from_request(r)]

    def take(self) -> list[Alert]:
        out = self.alerts
        self.requests.clear()
        return out


class StorageExtension:
    """A `file_storage`-like extension over one SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def client(self, owner: str, name: str = "") -> SQLiteStorageClient:
        return SQLiteStorageClient(self.path, f"{owner}/{name}")

    async def start(self, host: Any) -> None:
        return None

    async def shutdown(self) -> None:
        return None


class Host:
    def __init__(self, extensions: Mapping[str, Any] | None = None) -> None:
        self.extensions = {ComponentID.parse(k): v for k, v in (extensions or {}).items()}

    def get_extension(self, id: ComponentID) -> Any:
        return self.extensions.get(id)


def settings(name: str = "routewatch_alerts") -> CreateSettings:
    return CreateSettings(
        id=ComponentID.parse(name),
        kind=Kind.CONNECTOR,
        telemetry=Telemetry(),
        logger=logging.getLogger("test.alerts"),
    )


def config(text: str | Mapping[str, Any]) -> Config:
    raw = yaml.safe_load(text) if isinstance(text, str) else text
    return decode(Config, raw, "connectors::routewatch_alerts")


async def started(
    cfg: Config,
    clock: ManualClock,
    recorder: Recorder,
    storage: Path | None = None,
) -> AlertsConnector:
    connector = AlertsConnector(settings(), cfg, recorder, clock=clock)
    host = Host({"file_storage": StorageExtension(storage)} if storage else None)
    await connector.start(host, run_loop=False)
    return connector


def bucket_counts(values: Sequence[float], bounds: Sequence[float] = DURATION_BUCKETS) -> list[int]:
    counts = [0] * (len(bounds) + 1)
    for v in values:
        counts[bisect.bisect_left(bounds, v)] += 1
    return counts


def latency_batch(
    t: float,
    values: Sequence[float],
    route: str = "direct",
    outcome: str = "success",
    exemplars: Sequence[tuple[float, str]] = (),
    resource: Mapping[str, str] | None = None,
) -> ExportMetricsServiceRequest:
    """One delta export of `hybrid_routing.request.duration` observations at time t."""
    point = PointSpec(
        {HYBRID_ROUTING_ROUTE: route, HYBRID_ROUTING_OUTCOME: outcome},
        t,
        start=t - 10,
        bounds=DURATION_BUCKETS,
        counts=bucket_counts(values),
        sum=sum(values),
        exemplars=exemplars,
    )
    return metrics_request(HYBRID_ROUTING_REQUEST_DURATION, "histogram", [point], "delta", resource)


LATENCY_RULE = """
alert: RouteLatencyHigh
kind: quantile
metric: hybrid_routing.request.duration
quantile: 0.95
by: [hybrid_routing.route]
window: 5m
thresholds: {critical: "> 15", warning: "> 10"}
annotations:
  summary: "p95 of {{ labels['hybrid_routing.route'] }} is {{ value | round(1) }} s"
"""


def latency_config(**overrides: Any) -> Config:
    rule = yaml.safe_load(LATENCY_RULE)
    rule.update(overrides.pop("rule", {}))
    raw: dict[str, Any] = {
        "rules": [rule],
        "group_by": ["alertname", "hybrid_routing.route"],
        "group_wait": "0s",
        "group_interval": "1m",
        "repeat_interval": "4h",
    }
    raw.update(overrides)
    return config(raw)


GAUGE_RULE = {
    "alert": "QueueDeep",
    "kind": "value",
    "metric": "queue.depth",
    "by": ["queue"],
    "window": "5m",
    "thresholds": {"critical": "> 100", "warning": "> 50"},
    "annotations": {"summary": "{{ labels.queue }} is {{ value }} deep"},
}


def gauge_batch(t: float, value: float, queue: str = "a") -> ExportMetricsServiceRequest:
    return metrics_request("queue.depth", "gauge", [PointSpec({"queue": queue}, t, value=value)])


def gauge_config(rule: Mapping[str, Any] | None = None, **overrides: Any) -> Config:
    raw: dict[str, Any] = {
        "rules": [{**GAUGE_RULE, **(rule or {})}],
        "group_by": ["alertname", "queue"],
        "group_wait": "0s",
        "group_interval": "1s",  # state tests: every tick flushes; grouping tests override
        "repeat_interval": "1h",
        "evaluation_interval": "1s",
    }
    raw.update(overrides)
    return config(raw)


class Harness:
    """A connector on a fake clock over a real SQLite file, restartable in place."""

    def __init__(self, cfg: Config, storage: Path | None) -> None:
        self.cfg = cfg
        self.storage = storage
        self.clock = engine_clock()
        self.rec = Recorder()
        self.conn: AlertsConnector | None = None

    async def start(self) -> Harness:
        if self.storage is not None and not self.cfg.storage:
            self.cfg.storage = "file_storage"
        self.conn = await started(self.cfg, self.clock, self.rec, self.storage)
        return self

    async def restart(self) -> None:
        assert self.conn is not None
        await self.conn.shutdown()
        await self.start()

    async def stop(self) -> None:
        if self.conn is not None:
            await self.conn.shutdown()

    async def gauge(self, value: float, queue: str = "a") -> list[Alert]:
        """Send a gauge point now, then tick; the alerts emitted by both."""
        assert self.conn is not None
        await self.conn.consume(gauge_batch(self.clock.now, value, queue))
        await self.conn.run_once()
        return self.rec.take()

    async def at(self, t: float, value: float | None = None, queue: str = "a") -> list[Alert]:
        """Advance to T0 + t seconds; send `value` if given; tick."""
        self.clock.now = T0 + t
        if value is not None:
            return await self.gauge(value, queue)
        assert self.conn is not None
        await self.conn.run_once()
        return self.rec.take()
