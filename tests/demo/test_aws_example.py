"""examples/otel-config.aws.yaml runs: EMF reaches CloudWatch Logs, a critical alert reaches
its SNS topic and PagerDuty, traces reach the OTLP backend. AWS is moto's server, PagerDuty
the local Events API server, the tracing backend an OTLP sink; an overlay points the example
at them, moves its ports to free ones and uses the demo rule pack so that an alert fires in
seconds."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from support.moto import MotoServer, moto_server
from support.otlp_sink import otlp_sink
from support.ports import free_port

from routewatch.collector.devservers.demo_config import demo_rule_pack
from routewatch.collector.devservers.pagerduty_server import pagerduty_server

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "otel-config.aws.yaml"
ACCOUNT = "123456789012"  # moto's default account
ENV = {
    "ENVIRONMENT": "prod",
    "AWS_REGION": "us-east-1",
    "AWS_ACCOUNT_ID": ACCOUNT,
    "PAGERDUTY_ROUTING_KEY": "0123456789abcdef0123456789abcdef",
}
ROUTE = {"hybrid_routing.route": "direct", "hybrid_routing.outcome": "success"}


def _wait(predicate: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.25)
    pytest.fail(f"timed out waiting for {what}")


def _queue_for(moto: MotoServer, topic: str) -> str:
    sns, sqs = moto.client("sns"), moto.client("sqs")
    arn = sns.create_topic(Name=f"prod-hybrid-routing-{topic}-alerts")["TopicArn"]
    url = sqs.create_queue(QueueName=f"{topic}-alerts")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    sns.subscribe(
        TopicArn=arn,
        Protocol="sqs",
        Endpoint=queue_arn["Attributes"]["QueueArn"],
        Attributes={"RawMessageDelivery": "true"},
    )
    return str(url)


def _messages(moto: MotoServer, url: str) -> list[dict[str, Any]]:
    got = moto.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in got.get("Messages", [])]


def _emf_events(moto: MotoServer) -> list[dict[str, Any]]:
    logs = moto.client("logs")
    group = "/hybrid-routing/prod"
    if not logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]:
        return []
    events = []
    for stream in logs.describe_log_streams(logGroupName=group)["logStreams"]:
        got = logs.get_log_events(logGroupName=group, logStreamName=stream["logStreamName"])
        events += [json.loads(e["message"]) for e in got["events"]]
    return events


@pytest.fixture
def collector(tmp_path: Path) -> Iterator[dict[str, Any]]:
    with moto_server() as moto, pagerduty_server() as pd, otlp_sink() as sink:
        queues = {t: _queue_for(moto, t) for t in ("critical", "warning", "info")}
        rules = tmp_path / "demo-rules.yaml"
        rules.write_text(yaml.safe_dump(demo_rule_pack()))
        ports = {name: free_port() for name in ("grpc", "http", "health", "api", "metrics")}
        overlay = {
            "receivers": {
                "otlp": {
                    "protocols": {
                        "grpc": {"endpoint": f"127.0.0.1:{ports['grpc']}"},
                        "http": {"endpoint": f"127.0.0.1:{ports['http']}"},
                    }
                }
            },
            "connectors": {
                "routewatch_alerts": {
                    "rule_files": [str(rules)],
                    "evaluation_interval": "1s",
                    "group_wait": "1s",
                    "group_interval": "2s",
                    "endpoint": f"127.0.0.1:{ports['api']}",
                }
            },
            "exporters": {
                "awsemf": {"endpoint": moto.endpoint_url, "flush_interval": "200ms"},
                "sns": {"endpoint": moto.endpoint_url},
                "pagerduty": {"url": pd.url},
                "otlp": {"tls": {"insecure": True}},
            },
            "extensions": {"health_check": {"endpoint": f"127.0.0.1:{ports['health']}"}},
            "service": {"telemetry": {"metrics": {"address": f"127.0.0.1:{ports['metrics']}"}}},
        }
        overlay_path = tmp_path / "local.yaml"
        overlay_path.write_text(yaml.safe_dump(overlay))
        env = {
            **os.environ,
            **ENV,
            "TRACING_ENDPOINT": sink.endpoint,
            "ROUTEWATCH_STATE_DIR": str(tmp_path / "state"),
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        }
        log = (tmp_path / "collector.log").open("wb")
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "routewatch.collector.cli",
                "run",
                "--config",
                str(EXAMPLE),
                "--config",
                str(overlay_path),
            ],
            env=env,
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:

            def healthy() -> bool:
                if process.poll() is not None:
                    pytest.fail((tmp_path / "collector.log").read_text())
                try:
                    url = f"http://127.0.0.1:{ports['health']}/"
                    with urllib.request.urlopen(url, timeout=1) as r:
                        return r.status == 200
                except OSError:
                    return False

            _wait(healthy, "the collector's health check")
            yield {"moto": moto, "pd": pd, "sink": sink, "queues": queues, "ports": ports}
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(30)
            log.close()
        assert process.returncode == 0, (tmp_path / "collector.log").read_text()[-3000:]


def test_aws_example_delivers_emf_alerts_and_traces(collector: dict[str, Any]) -> None:
    moto, pd, sink = collector["moto"], collector["pd"], collector["sink"]
    endpoint = f"http://127.0.0.1:{collector['ports']['grpc']}"
    resource = Resource.create({"service.name": "support-router"})
    reader = PeriodicExportingMetricReader(
        OTLPMetricExporter(endpoint=endpoint, insecure=True), export_interval_millis=500
    )
    meters = MeterProvider(resource=resource, metric_readers=[reader])
    tracers = TracerProvider(resource=resource)
    tracers.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint, insecure=True)))
    try:
        duration = meters.get_meter("test").create_histogram(
            "hybrid_routing.request.duration", unit="s"
        )
        # Far over the demo pack's critical p95 (1.5 s), one export each: the first point of
        # a cumulative stream is the baseline of the EMF deltas.
        for _ in range(6):
            duration.record(3.0, ROUTE)
            meters.force_flush()
        with tracers.get_tracer("test").start_as_current_span("route standard"):
            pass

        pagerduty = _wait(
            lambda: [e for e in pd.events if e["event_action"] == "trigger"], "a PagerDuty trigger"
        )
        assert pagerduty[0]["payload"]["severity"] == "critical"
        critical = _wait(lambda: _messages(moto, collector["queues"]["critical"]), "an SNS message")
        assert critical[0]["alertname"] == "RouteLatencyHigh"
        assert critical[0]["severity"] == "critical"
        assert pagerduty[0]["dedup_key"] == critical[0]["fingerprint"]
        emf = _wait(
            lambda: [e for e in _emf_events(moto) if "hybrid_routing.request.duration" in e],
            "EMF in CloudWatch Logs",
        )
        assert emf[0]["hybrid_routing.route"] == "direct"
        assert emf[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "HybridRouting"
        assert _wait(lambda: sink.span_count(), "the span at the tracing backend") == 1
    finally:
        meters.shutdown()
        tracers.shutdown()
