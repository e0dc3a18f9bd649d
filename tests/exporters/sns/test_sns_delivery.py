"""The SNS channel over real botocore against moto's server, read back through SQS."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import orjson
import pytest
from support.alert_delivery import DeliveryClock, sample_alert
from support.fault_proxy import aws_query_error, fault_proxy
from support.moto import MotoServer, moto_server
from support.sns_sqs import subscribe

from routewatch.exporters.delivery import Backoff
from routewatch.exporters.sns import MAX_MESSAGE_BYTES, MessageOptions, SnsNotifier, SnsOptions

BACKOFF = Backoff(
    initial_interval=1.0,
    multiplier=2.0,
    max_interval=8.0,
    max_elapsed_time=60.0,
    randomization_factor=0.0,
)


@pytest.fixture(scope="module")
def moto_module() -> Iterator[MotoServer]:
    with moto_server() as moto:
        yield moto


@pytest.fixture
def moto(moto_module: MotoServer) -> MotoServer:
    moto_module.reset()
    return moto_module


def channel(endpoint: str, clock: DeliveryClock, **options: Any) -> SnsNotifier:
    opts = SnsOptions(endpoint=endpoint, region="us-east-1", backoff=BACKOFF, timeout=10.0)
    return SnsNotifier(replace(opts, **options), **clock.clocks())


async def test_envelope_delivery_carries_message_subject_and_attributes(moto: MotoServer) -> None:
    sub = subscribe(moto, "alerts", raw=False)
    sns = channel(moto.endpoint_url, DeliveryClock(), topic_arn=sub.topic_arn)
    [trigger] = await sns.notify(sample_alert())
    [resolve] = await sns.notify(sample_alert(status="resolved", notification_id="n-2"))
    assert (trigger.outcome, resolve.outcome) == ("delivered", "delivered")
    assert trigger.remote_id and trigger.destination == sub.topic_arn
    first, second = (orjson.loads(m["Body"]) for m in sub.receive(2))
    assert first["Subject"] == "[firing] critical RouteLatencyHigh direct"
    assert orjson.loads(first["Message"])["value"] == 16.2
    assert {k: v["Value"] for k, v in first["MessageAttributes"].items()} == {
        "severity": "critical",
        "alertname": "RouteLatencyHigh",
        "status": "firing",
        "route": "direct",
    }
    assert second["MessageAttributes"]["status"]["Value"] == "resolved"
    assert first["MessageId"] == trigger.remote_id


async def test_raw_delivery_puts_attributes_on_the_sqs_message(moto: MotoServer) -> None:
    sub = subscribe(moto, "raw-alerts", raw=True)
    sns = channel(moto.endpoint_url, DeliveryClock(), topic_arn=sub.topic_arn)
    await sns.notify(sample_alert())
    [message] = sub.receive(1)
    assert orjson.loads(message["Body"])["alertname"] == "RouteLatencyHigh"
    attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    assert attributes["severity"] == "critical" and attributes["route"] == "direct"


async def test_message_at_and_past_the_size_limit_is_published(moto: MotoServer) -> None:
    sub = subscribe(moto, "big", raw=True)
    options = MessageOptions(format="text", template="{description}")
    sns = channel(moto.endpoint_url, DeliveryClock(), topic_arn=sub.topic_arn, message=options)
    probe = sample_alert(annotations={"summary": "s", "description": "m"})
    from routewatch.exporters.delivery import Action, Step
    from routewatch.exporters.sns import publish_input

    step = Step(sub.topic_arn, Action.TRIGGER, "critical")
    room = MAX_MESSAGE_BYTES - (publish_input(probe, step, options, False).size - 1)
    exact = sample_alert(annotations={"summary": "s", "description": "m" * room})
    past = sample_alert(
        annotations={"summary": "s", "description": "m" * (room + 1)}, notification_id="n-2"
    )
    [at_limit] = await sns.notify(exact)
    [over] = await sns.notify(past)
    assert (at_limit.outcome, at_limit.truncated) == ("delivered", False)
    assert (over.outcome, over.truncated) == ("delivered", True)
    first, second = sub.receive(2)
    assert len(first["Body"]) == room and "truncated" not in first["MessageAttributes"]
    assert second["MessageAttributes"]["truncated"]["StringValue"] == "true"


async def test_topic_per_severity_and_a_level_change_resolves_on_the_old_topic(
    moto: MotoServer,
) -> None:
    critical = subscribe(moto, "prod-hybrid-routing-critical-alerts", raw=True)
    warning = subscribe(moto, "prod-hybrid-routing-warning-alerts", raw=True)
    topics = {
        "critical": critical.topic_arn,
        "error": critical.topic_arn,
        "warning": warning.topic_arn,
        "info": warning.topic_arn,
    }
    sns = channel(moto.endpoint_url, DeliveryClock(), topic_arns=topics)
    await sns.notify(sample_alert())
    results = await sns.notify(sample_alert(severity="warning", notification_id="n-2"))
    assert [(r.destination, r.action) for r in results] == [
        (warning.topic_arn, "trigger"),
        (critical.topic_arn, "resolve"),
    ]
    await sns.notify(sample_alert(severity="warning", status="resolved", notification_id="n-3"))
    on_critical = [m["MessageAttributes"] for m in critical.receive(2)]
    on_warning = [m["MessageAttributes"] for m in warning.receive(2)]
    assert [(a["status"]["StringValue"], a["severity"]["StringValue"]) for a in on_critical] == [
        ("firing", "critical"),
        ("resolved", "critical"),
    ]
    assert [(a["status"]["StringValue"], a["severity"]["StringValue"]) for a in on_warning] == [
        ("firing", "warning"),
        ("resolved", "warning"),
    ]


async def test_severities_filter(moto: MotoServer) -> None:
    sub = subscribe(moto, "crit-only", raw=True)
    sns = channel(
        moto.endpoint_url, DeliveryClock(), topic_arn=sub.topic_arn, severities=("critical",)
    )
    [result] = await sns.notify(sample_alert(severity="info"))
    [resolved] = await sns.notify(sample_alert(severity="info", status="resolved"))
    assert (result.outcome, resolved.outcome) == ("filtered", "filtered")
    assert sub.receive(0) == []


async def test_fifo_trigger_repeat_and_resolve_all_arrive_duplicates_do_not(
    moto: MotoServer,
) -> None:
    sub = subscribe(moto, "alerts", raw=True, fifo=True)
    sns = channel(moto.endpoint_url, DeliveryClock(), topic_arn=sub.topic_arn)
    await sns.notify(sample_alert(notification_id="fp-1"))
    await sns.notify(sample_alert(notification_id="fp-2"))  # repeat_interval elapsed
    await sns.notify(sample_alert(status="resolved", notification_id="fp-3"))
    # a second collector (or a retried request) sending the same notification again
    other = channel(moto.endpoint_url, DeliveryClock(), topic_arn=sub.topic_arn)
    await other.notify(sample_alert(notification_id="fp-1"))
    messages = sub.receive(3)
    assert [m["MessageAttributes"]["status"]["StringValue"] for m in messages] == [
        "firing",
        "firing",
        "resolved",
    ]
    assert {m["Attributes"]["MessageGroupId"] for m in messages} == {"7f3a9c1e5b2d4f60"}
    assert [m["Attributes"]["MessageDeduplicationId"] for m in messages] == [
        "fp-1",
        "fp-2",
        "fp-3",
    ]


@pytest.mark.parametrize("code", ["Throttling", "ThrottledException"])
async def test_throttling_is_retried_with_backoff(moto: MotoServer, code: str) -> None:
    sub = subscribe(moto, "throttled", raw=True)
    with fault_proxy(moto.endpoint_url) as proxy:
        clock = DeliveryClock()
        sns = channel(proxy.url, clock, topic_arn=sub.topic_arn)
        proxy.inject(400, aws_query_error(code), times=2, match="Action=Publish")
        [result] = await sns.notify(sample_alert())
        assert (result.outcome, result.attempts) == ("delivered", 3)
        assert clock.sleeps == [1.0, 2.0]
        assert proxy.injected == 2
    assert len(sub.receive(1)) == 1


async def test_5xx_is_retried_and_a_bad_parameter_is_not(moto: MotoServer) -> None:
    sub = subscribe(moto, "faulty", raw=True)
    with fault_proxy(moto.endpoint_url) as proxy:
        clock = DeliveryClock()
        sns = channel(proxy.url, clock, topic_arn=sub.topic_arn)
        proxy.inject(500, aws_query_error("InternalError", "oops"), times=1, match="Publish")
        [retried] = await sns.notify(sample_alert())
        assert (retried.outcome, retried.attempts) == ("delivered", 2)
        proxy.inject(400, aws_query_error("InvalidParameter", "bad"), times=3, match="Publish")
        [refused] = await sns.notify(sample_alert(notification_id="n-2"))
        assert (refused.outcome, refused.attempts, refused.retryable) == ("failed", 1, False)
        assert refused.error == "InvalidParameter: bad"


async def test_a_missing_topic_is_refused_not_retried(moto: MotoServer) -> None:
    clock = DeliveryClock()
    arn = "arn:aws:sns:us-east-1:123456789012:does-not-exist"
    sns = channel(moto.endpoint_url, clock, topic_arn=arn)
    [result] = await sns.notify(sample_alert())
    assert (result.outcome, result.retryable, result.attempts) == ("failed", False, 1)
    assert clock.sleeps == []


async def test_unreachable_endpoint_is_retryable() -> None:
    from support.ports import free_port

    clock = DeliveryClock()
    sns = channel(
        f"http://127.0.0.1:{free_port()}",
        clock,
        topic_arn="arn:aws:sns:us-east-1:123456789012:t",
        backoff=replace(BACKOFF, max_elapsed_time=2.0),
    )
    [result] = await sns.notify(sample_alert())
    assert result.outcome == "failed" and result.retryable
    assert result.error.startswith("network error")


def test_client_region_comes_from_the_topic_arns_unless_set() -> None:
    eu = "arn:aws:sns:eu-west-1:123456789012:a"
    us = "arn:aws:sns:us-east-1:123456789012:b"
    assert SnsOptions(topic_arn=eu).client_region == "eu-west-1"
    assert SnsOptions(topic_arn=eu, region="eu-central-1").client_region == "eu-central-1"
    assert SnsOptions(topic_arns={"critical": eu, "info": us}).client_region is None
