"""Alert delivery cost: payload building, and push -> arrival at the local PagerDuty server
and at moto's SNS, through the real exporters over real HTTP.

    .tools/bin/uv run --no-sync python benchmarks/alert_delivery.py [--n 200]

Prints p50/p99 (after one warm-up call) of the time from `exporter.consume(request)` to the
request arriving at the server (PagerDuty) or to Publish returning (SNS), and the cost of
building one payload.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from support.alert_delivery import ROUTING_KEY, sample_alert
from support.moto import moto_server

from routewatch.collector.component import ComponentID, CreateSettings, Kind, Signal
from routewatch.collector.confmap import decode
from routewatch.collector.devservers.pagerduty_server import pagerduty_server
from routewatch.collector.exporters.pagerduty.factory import FACTORY as PAGERDUTY
from routewatch.collector.exporters.sns.factory import FACTORY as SNS
from routewatch.collector.telemetry import Telemetry
from routewatch.exporters.alerts import alerts_to_request
from routewatch.exporters.delivery import Action, Step
from routewatch.exporters.pagerduty import EventOptions, trigger_event
from routewatch.exporters.sns import MessageOptions, publish_input


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {p50 * 1000:7.2f} ms   p99 {p99 * 1000:7.2f} ms   (n={len(ordered)})"


def settings(type_: str) -> CreateSettings:
    return CreateSettings(
        ComponentID(type_), Kind.EXPORTER, Telemetry(), logging.getLogger("bench"), Signal.LOGS
    )


def build_cost(n: int) -> None:
    alert = sample_alert()
    step = Step("arn:aws:sns:us-east-1:123456789012:t", Action.TRIGGER, "critical")
    for name, build in (
        ("pagerduty trigger_event", lambda: trigger_event(alert, ROUTING_KEY, EventOptions(), 1.0)),
        ("sns publish_input      ", lambda: publish_input(alert, step, MessageOptions(), True)),
    ):
        start = time.perf_counter()
        for _ in range(n):
            build()
        print(f"{name}: {(time.perf_counter() - start) / n * 1e6:7.1f} us per alert")


async def pagerduty_latency(n: int) -> None:
    with pagerduty_server(rate_limit_per_minute=0) as pd:
        raw = {"routing_key": ROUTING_KEY, "url": pd.url, "events_per_minute": 1e9}
        cfg = decode(type(PAGERDUTY.create_default_config()), raw, "exporters::pagerduty")
        exporter = PAGERDUTY.create[Signal.LOGS](settings("pagerduty"), cfg, None)
        await exporter.consume(alerts_to_request([sample_alert()], now=time.time()))  # warm-up
        samples = []
        for i in range(n):
            alert = sample_alert(fingerprint=f"fp-{i}", notification_id=f"n-{i}")
            request = alerts_to_request([alert], now=time.time())
            start = time.time()
            await exporter.consume(request)
            samples.append(pd.received[-1].time - start)
        await exporter.shutdown()
    print(f"pagerduty consume -> server arrival: {percentiles(samples)}")


async def sns_latency(n: int) -> None:
    with moto_server() as moto:
        topic = moto.client("sns").create_topic(Name="bench")["TopicArn"]
        raw = {"topic_arn": topic, "endpoint": moto.endpoint_url, "region": "us-east-1"}
        cfg = decode(type(SNS.create_default_config()), raw, "exporters::sns")
        exporter = SNS.create[Signal.LOGS](settings("sns"), cfg, None)
        # the first Publish creates the botocore client (about 0.2 s): not a delivery cost
        await exporter.consume(alerts_to_request([sample_alert()], now=time.time()))
        samples = []
        for i in range(n):
            alert = replace(sample_alert(), fingerprint=f"fp-{i}", notification_id=f"n-{i}")
            start = time.perf_counter()
            await exporter.consume(alerts_to_request([alert], now=time.time()))
            samples.append(time.perf_counter() - start)
        await exporter.shutdown()
    print(f"sns consume -> Publish returned (moto): {percentiles(samples)}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request log
    build_cost(2000)
    asyncio.run(pagerduty_latency(args.n))
    asyncio.run(sns_latency(args.n // 2))


if __name__ == "__main__":
    main()
