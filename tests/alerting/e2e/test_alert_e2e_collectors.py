"""Real `routewatch run` processes -> the local PagerDuty server (and SNS on moto): one
incident from two collectors, a SIGKILL while firing, and faults retried (or not) by the
running collector. Metrics are sent as an SDK sends them (OTLP/gRPC export); the PagerDuty server
validates every event against the Events v2 spec and answers 400 to anything invalid."""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from alerting.e2e.collector_proc import (
    ROUTING_KEY,
    Collector,
    actions,
    count,
    latency_batch,
    latency_rule,
    sns_exporter,
    statuses,
    wait,
)
from support.fault_proxy import aws_query_error, fault_proxy
from support.moto import moto_server
from support.ports import free_port
from support.sns_sqs import subscribe

from routewatch.collector.devservers.pagerduty_server import PagerDutyServer, pagerduty_server

SLOW_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.fixture
def pd() -> Iterator[PagerDutyServer]:
    with pagerduty_server() as server:
        yield server


def test_two_collectors_with_the_same_rules_and_data_open_one_incident(
    tmp_path: Path, pd: PagerDutyServer
) -> None:
    collectors = [Collector(tmp_path, "a"), Collector(tmp_path, "b")]
    for c in collectors:
        c.configure([latency_rule()], pagerduty_url=pd.url)
        c.launch()
    try:
        for c in collectors:
            c.wait_ready()
        slow = latency_batch(2.0, 20, trace_id=SLOW_TRACE)
        for c in collectors:  # the same export to both, as a load balancer's replicas see it
            c.export(slow)
        wait(pd, lambda s: count(s, "trigger") == 2, "two triggers", *collectors)
        dedup_keys = {key for action, key in actions(pd) if action == "trigger"}
        assert len(dedup_keys) == 1, dedup_keys
        assert len(pd.incidents) == 1 and pd.incidents[0].status == "triggered"
        assert pd.incidents[0].severity == "critical"
        trigger = next(e for e in pd.events if e["event_action"] == "trigger")
        assert trigger["payload"]["custom_details"]["exemplar_trace_ids"] == [SLOW_TRACE]
        assert {"href": f"http://jaeger.example:16686/trace/{SLOW_TRACE}", "text": "Trace"} in (
            trigger["links"]
        )

        healthy = latency_batch(0.05, 2000)  # p95 of 20 slow among 2020 requests: fast
        for c in collectors:
            c.export(healthy)
        wait(pd, lambda s: count(s, "resolve") == 2, "two resolves", *collectors)
    finally:
        for c in collectors:
            c.stop()
    assert len(pd.incidents) == 1
    (incident,) = pd.incidents
    assert incident.status == "resolved" and incident.dedup_key in dedup_keys
    assert statuses(pd) == [202] * 4  # every event valid per the spec


def test_sigkill_while_firing_then_recovery_resolves_without_a_second_trigger(
    tmp_path: Path, pd: PagerDutyServer
) -> None:
    collector = Collector(tmp_path)
    storage = tmp_path / "storage"
    collector.configure(
        [latency_rule(window="30s")],
        pagerduty_url=pd.url,
        storage_dir=storage,
        pagerduty={"history_storage": "file_storage"},
    )
    collector.start()
    try:
        collector.export(latency_batch(2.0, 20, trace_id=SLOW_TRACE))
        wait(pd, lambda s: count(s, "trigger") == 1, "the trigger", collector)
        # The connector saved the alert and its notification when the exporter's queue took
        # the record, before the queue's consumer could even open the HTTP connection.
        collector.kill()

        collector.start()  # same config, same storage; windows start empty
        collector.export(latency_batch(2.0, 20))  # still broken: firing, already paged
        collector.export(latency_batch(0.05, 2000))
        wait(pd, lambda s: count(s, "resolve") == 1, "the resolve after the restart", collector)
    finally:
        exit_code = collector.stop()
    assert exit_code == 0
    ((trigger, key), (resolve, resolve_key)) = actions(pd, status=None)
    assert (trigger, resolve) == ("trigger", "resolve") and key == resolve_key
    assert [i.status for i in pd.incidents] == ["resolved"]
    assert "Traceback" not in collector.log()


def deliveries(api: str, wanted: int) -> list[dict[str, Any]]:
    """The delivery history over the connector's HTTP API, once it holds `wanted` entries."""
    deadline = time.monotonic() + 20
    while True:
        with urllib.request.urlopen(f"{api}/api/v2/notifications?receiver=pagerduty") as r:
            body = r.read()
        entries: list[dict[str, Any]] = orjson.loads(body)
        assert ROUTING_KEY not in body.decode()
        if len(entries) >= wanted or time.monotonic() > deadline:
            return entries
        time.sleep(0.05)


def test_pagerduty_429_5xx_and_network_errors_are_retried_400_is_not(
    tmp_path: Path, pd: PagerDutyServer
) -> None:
    collector = Collector(tmp_path)
    api = f"127.0.0.1:{free_port()}"
    collector.configure([latency_rule()], pagerduty_url=pd.url, connector={"endpoint": api})
    collector.start()
    try:
        pd.inject(503)
        pd.inject(429, retry_after=0.05)
        pd.inject(502)
        pd.inject(500)
        pd.inject_drop()
        collector.export(latency_batch(2.0, 20, route="direct"))
        wait(pd, lambda s: count(s, "trigger") == 1, "the retried trigger", collector)
        assert statuses(pd) == [503, 429, 502, 500, 0, 202]

        pd.inject(400)
        collector.export(latency_batch(2.0, 20, route="mcp"))
        wait(pd, lambda s: len(s.received) == 7, "the refused trigger", collector)
        # What happened is in the delivery history, over the connector's HTTP API.
        refused, delivered = deliveries(f"http://{api}", 2)  # newest first
        assert (delivered["outcome"], delivered["attempts"]) == ("delivered", 6)
        assert delivered["remote_id"] == actions(pd)[0][1] and delivered["action"] == "trigger"
        assert (refused["outcome"], refused["attempts"]) == ("failed", 1)
        assert "HTTP 400" in refused["error"]
    finally:
        # A graceful stop drains the exporter's queue and waits for retries in flight: a
        # retry of the 400 would show up below.
        exit_code = collector.stop()
    assert exit_code == 0
    assert statuses(pd) == [503, 429, 502, 500, 0, 202, 400]
    assert [(i.dedup_key, i.status) for i in pd.incidents] == [(actions(pd)[0][1], "triggered")]
    assert "refused" in collector.log() and ROUTING_KEY not in collector.log()


def test_a_trigger_queued_on_disk_survives_sigkill_while_pagerduty_is_down(
    tmp_path: Path, pd: PagerDutyServer
) -> None:
    collector = Collector(tmp_path)
    collector.configure(
        [latency_rule(window="30s")],
        pagerduty_url=pd.url,
        storage_dir=tmp_path / "storage",
        pagerduty={"sending_queue": {"storage": "file_storage"}},
    )
    collector.start()
    try:
        pd.inject(503, times=1_000_000)
        collector.export(latency_batch(2.0, 20))
        wait(pd, lambda s: len(s.received) >= 2, "the first refused attempts", collector)
        collector.kill()  # the alert is recorded as sent; its trigger sits in the disk queue
        pd.reset()  # PagerDuty is back

        collector.start()
        wait(pd, lambda s: count(s, "trigger") == 1, "the trigger replayed from disk", collector)
        collector.export(latency_batch(0.05, 2000))
        wait(pd, lambda s: count(s, "resolve") == 1, "the resolve", collector)
    finally:
        exit_code = collector.stop()
    assert exit_code == 0
    assert [a for a, _ in actions(pd, status=None)] == ["trigger", "resolve"]
    assert [i.status for i in pd.incidents] == ["resolved"]


def test_sns_throttling_and_5xx_are_retried_a_bad_parameter_is_not(tmp_path: Path) -> None:
    with moto_server() as moto, fault_proxy(moto.endpoint_url) as proxy:
        topic = subscribe(moto, "e2e-alerts", raw=True)
        collector = Collector(tmp_path)
        collector.configure([latency_rule()], sns=sns_exporter(topic.topic_arn, proxy))
        collector.start()
        try:
            proxy.inject(400, aws_query_error("Throttling"), times=2, match="Action=Publish")
            proxy.inject(503, aws_query_error("ServiceUnavailable"), match="Action=Publish")
            collector.export(latency_batch(2.0, 20, route="direct"))
            (delivered,) = topic.receive(1, timeout=15)
            assert proxy.injected == 3

            proxy.inject(400, aws_query_error("InvalidParameter", "bad"), match="Action=Publish")
            collector.export(latency_batch(2.0, 20, route="mcp"))
        finally:
            # A graceful stop drains the exporter's queue and waits for retries in flight.
            exit_code = collector.stop()
        assert exit_code == 0
        assert proxy.injected == 4 and topic.receive(0) == []  # the refused one: sent once
    assert delivered["MessageAttributes"]["route"]["StringValue"] == "direct"
    assert "InvalidParameter" in collector.log()
