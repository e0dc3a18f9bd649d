"""A real `routewatch run` process for the end-to-end alert tests (and the latency benchmark):
its config, start/stop/kill, and a raw OTLP/gRPC client that feeds it metrics.

The process itself (launch, stop, kill, log) is `support.collector_process.CollectorProcess`.
"""

from __future__ import annotations

import signal
import socket
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import grpc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2_grpc
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from support.collector_process import CollectorProcess
from support.fault_proxy import FaultProxy
from support.moto import REGION, MotoServer
from support.ports import free_port

from routewatch.collector.alerting.otlp_build import PointSpec, metrics_request
from routewatch.collector.devservers.pagerduty_server import PagerDutyServer
from routewatch.instrumentation.semconv import (
    DURATION_BUCKETS,
    HYBRID_ROUTING_OUTCOME,
    HYBRID_ROUTING_REQUEST_DURATION,
    HYBRID_ROUTING_ROUTE,
)

ROUTING_KEY = "E2E0123456789abcdefghijklmnopqrs"  # 32 characters, as PagerDuty's
assert len(ROUTING_KEY) == 32
# Fast retries: the tests count attempts at the server, they do not wait for real backoff.
FAST_RETRY = {"initial_interval": "20ms", "max_interval": "100ms", "max_elapsed_time": "10s"}


def latency_rule(
    threshold: float = 1.0,
    window: str = "5s",
    for_: str = "0s",
    **extra: Any,
) -> dict[str, Any]:
    """RouteLatencyHigh as in the issue, with a short window and a critical threshold."""
    return {
        "alert": "RouteLatencyHigh",
        "kind": "quantile",
        "metric": HYBRID_ROUTING_REQUEST_DURATION,
        "quantile": 0.95,
        "by": [HYBRID_ROUTING_ROUTE],
        "window": window,
        "for": for_,
        "thresholds": {"critical": f"> {threshold:g}"},
        "labels": {"team": "routing"},
        "annotations": {
            "summary": "p95 latency of {{ labels['hybrid_routing.route'] }} is {{ value }} s",
            "runbook_url": "https://example.com/runbooks/route-latency",
        },
        **extra,
    }


def sns_exporter(topic_arn: str, endpoint: MotoServer | FaultProxy) -> dict[str, Any]:
    """`sns` exporter settings for a topic on moto's server (or a fault proxy in front)."""
    url = endpoint.endpoint_url if isinstance(endpoint, MotoServer) else endpoint.url
    return {"topic_arn": topic_arn, "endpoint": url, "region": REGION}


def collector_config(
    grpc_port: int,
    metrics_port: int,
    rules: Sequence[Mapping[str, Any]],
    *,
    pagerduty_url: str | None = None,
    sns: Mapping[str, Any] | None = None,
    storage_dir: Path | None = None,
    connector: Mapping[str, Any] | None = None,
    pagerduty: Mapping[str, Any] | None = None,
    processors: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """otlp -> [processors] -> routewatch_alerts -> logs pipeline -> pagerduty and/or sns."""
    alerts: dict[str, Any] = {
        "evaluation_interval": "1s",
        "rules": list(rules),
        "group_by": ["alertname", HYBRID_ROUTING_ROUTE],
        "group_wait": "0s",
        "group_interval": "1s",
        "repeat_interval": "1h",
        "trace_url_template": "http://jaeger.example:16686/trace/{trace_id}",
        **(connector or {}),
    }
    exporters: dict[str, Any] = {}
    if pagerduty_url is not None:
        exporters["pagerduty"] = {
            "routing_key": ROUTING_KEY,
            "url": pagerduty_url,
            "severities": ["critical", "error"],
            "source": "e2e-hybrid-routing",
            "retry_on_failure": dict(FAST_RETRY),
            **(pagerduty or {}),
        }
    if sns is not None:
        exporters["sns"] = {"retry_on_failure": dict(FAST_RETRY), **sns}
    extensions: dict[str, Any] = {}
    if storage_dir is not None:
        extensions["file_storage"] = {"directory": str(storage_dir), "create_directory": True}
        alerts["storage"] = "file_storage"
    return {
        "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": f"127.0.0.1:{grpc_port}"}}}},
        "processors": dict(processors or {}),
        "connectors": {"routewatch_alerts": alerts},
        "exporters": exporters,
        "extensions": extensions,
        "service": {
            "extensions": list(extensions),
            "pipelines": {
                "metrics": {
                    "receivers": ["otlp"],
                    "processors": list(processors or {}),
                    "exporters": ["routewatch_alerts"],
                },
                "logs": {"receivers": ["routewatch_alerts"], "exporters": list(exporters)},
            },
            "telemetry": {
                "logs": {"level": "info"},
                "metrics": {"address": f"127.0.0.1:{metrics_port}"},
            },
        },
    }


class Collector(CollectorProcess):
    """One `routewatch run` subprocess on its own ports and config file."""

    def __init__(self, workdir: Path, name: str = "collector") -> None:
        super().__init__(workdir, name)
        self.grpc_port = free_port()
        self.metrics_port = free_port()
        self._channel: grpc.Channel | None = None

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    def configure(self, rules: Sequence[Mapping[str, Any]], **kwargs: Any) -> None:
        self.write_config(collector_config(self.grpc_port, self.metrics_port, rules, **kwargs))

    def start(self, timeout: float = 30.0) -> None:
        self.launch()
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Wait until the OTLP receiver accepts connections (receivers start last)."""
        self.wait_until(self._listening, f"listening on {self.endpoint}", timeout)

    def _listening(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.grpc_port), timeout=0.2):
                return True
        except OSError:
            return False

    def export(self, request: ExportMetricsServiceRequest, timeout: float = 10.0) -> None:
        """One OTLP/gRPC metrics export, as an SDK's exporter sends it."""
        if self._channel is None:
            self._channel = grpc.insecure_channel(self.endpoint)
        stub = metrics_service_pb2_grpc.MetricsServiceStub(self._channel)
        stub.Export(request, timeout=timeout)

    def internal_metrics(self) -> str:
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=10) as response:
            return str(response.read().decode())

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 30.0) -> int:
        """Close the client channel, then stop the process (SIGTERM by default)."""
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        return super().stop(sig, timeout)


def latency_batch(
    seconds: float,
    count: int,
    route: str = "direct",
    outcome: str = "success",
    trace_id: str = "",
    resource: Mapping[str, str] | None = None,
) -> ExportMetricsServiceRequest:
    """A delta export of `count` requests of `seconds` each on `route`, ending now."""
    t = time.time()
    counts = [0] * (len(DURATION_BUCKETS) + 1)
    counts[next((i for i, b in enumerate(DURATION_BUCKETS) if seconds <= b), -1)] = count
    attrs = {HYBRID_ROUTING_ROUTE: route, HYBRID_ROUTING_OUTCOME: outcome}
    point = PointSpec(
        attrs,
        t,
        start=t - 1.0,
        bounds=DURATION_BUCKETS,
        counts=counts,
        sum=seconds * count,
        exemplars=((seconds, trace_id),) if trace_id else (),
    )
    return metrics_request(
        HYBRID_ROUTING_REQUEST_DURATION, "histogram", [point], "delta", resource=resource
    )


def actions(pd: PagerDutyServer, status: int | None = 202) -> list[tuple[str, str]]:
    """(event_action, dedup_key) of the requests the server answered `status` (None: all)."""
    with pd.lock:
        return [
            (r.event.get("event_action", ""), r.event.get("dedup_key", ""))
            for r in pd.received
            if r.event is not None and (status is None or r.status == status)
        ]


def statuses(pd: PagerDutyServer) -> list[int]:
    """HTTP status of every request the server answered (0: connection dropped)."""
    with pd.lock:
        return [r.status for r in pd.received]


def count(pd: PagerDutyServer, action: str) -> int:
    """Accepted events of `action` (trigger, resolve)."""
    return sum(1 for a, _ in actions(pd) if a == action)


def wait(
    pd: PagerDutyServer,
    predicate: Callable[[PagerDutyServer], bool],
    what: str,
    *collectors: Collector,
    timeout: float = 20.0,
) -> None:
    """Wait for `predicate` at the PagerDuty server; on timeout fail with the collectors' logs."""
    if not pd.wait_for(predicate, timeout=timeout):
        logs = "\n".join(f"--- {c.name}\n{c.log()}" for c in collectors)
        raise AssertionError(f"timed out waiting for {what}; received {statuses(pd)}\n{logs}")
