"""Alertmanager users' top complaints, checked on a running `routewatch run`: an alert silenced
after it paged must still resolve the incident, and a resolve sent to an SNS FIFO topic within
its five-minute deduplication window of the trigger must not be swallowed."""

from __future__ import annotations

import time
import urllib.request
from pathlib import Path
from typing import Any

import orjson
from alerting.e2e.collector_proc import (
    Collector,
    count,
    latency_batch,
    latency_rule,
    sns_exporter,
    wait,
)
from support.moto import moto_server
from support.ports import free_port
from support.sns_sqs import subscribe

from routewatch.collector.alerting.silence import format_time
from routewatch.collector.devservers.pagerduty_server import PagerDutyServer, pagerduty_server


def _call(url: str, body: dict[str, Any] | None = None) -> Any:
    data = orjson.dumps(body) if body is not None else None
    request = urllib.request.Request(url, data, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return orjson.loads(response.read())


def _page(pd: PagerDutyServer, action: str, collector: Collector) -> dict[str, Any]:
    wait(pd, lambda s: count(s, action) == 1, f"the {action}", collector)
    return next(e for e in pd.events if e["event_action"] == action)


def test_silenced_after_paging_still_resolves_and_fifo_keeps_the_quick_resolve(
    tmp_path: Path,
) -> None:
    with moto_server() as moto, pagerduty_server() as pd:
        fifo = subscribe(moto, "e2e-critical-alerts", raw=True, fifo=True)
        collector = Collector(tmp_path)
        api = f"http://127.0.0.1:{free_port()}/api/v2"
        collector.configure(
            [latency_rule(window="30s")],
            pagerduty_url=pd.url,
            sns=sns_exporter(fifo.topic_arn, moto),
            connector={"endpoint": api.split("/")[2]},
        )
        collector.start()
        try:
            collector.export(latency_batch(2.0, 20))
            trigger = _page(pd, "trigger", collector)
            now = time.time()
            _call(
                f"{api}/silences",
                {
                    "matchers": [
                        {"name": "hybrid_routing.route", "value": "direct", "isRegex": False}
                    ],
                    "startsAt": format_time(now),
                    "endsAt": format_time(now + 3600),
                    "createdBy": "oncall",
                    "comment": "known: direct path under maintenance",
                },
            )
            (alert,) = _call(f"{api}/alerts")
            assert alert["status"] == {"state": "suppressed", "mutedBy": "silenced"}

            collector.export(latency_batch(0.05, 2000))  # recovered while silenced
            resolve = _page(pd, "resolve", collector)
            messages = fifo.receive(2, timeout=15)
        finally:
            exit_code = collector.stop()
    assert exit_code == 0
    assert resolve["dedup_key"] == trigger["dedup_key"]
    assert [i.status for i in pd.incidents] == ["resolved"]
    # Both arrived on the FIFO topic, seconds apart: same group, different deduplication ids.
    assert [m["MessageAttributes"]["status"]["StringValue"] for m in messages] == [
        "firing",
        "resolved",
    ]
    assert {m["Attributes"]["MessageGroupId"] for m in messages} == {trigger["dedup_key"]}
    dedup_ids = {m["Attributes"]["MessageDeduplicationId"] for m in messages}
    assert len(dedup_ids) == 2
