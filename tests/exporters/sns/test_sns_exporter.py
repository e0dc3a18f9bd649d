"""The `sns` collector exporter: config validation and lifecycle through its factory."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from support.alert_delivery import sample_alert
from support.moto import moto_server

from routewatch.collector.alerting.history import reset_shared_history, shared_history
from routewatch.collector.component import ComponentID, CreateSettings, Kind, Signal
from routewatch.collector.confmap import decode
from routewatch.collector.errors import ConfigError
from routewatch.collector.exporters.sns.config import Config
from routewatch.collector.exporters.sns.factory import FACTORY
from routewatch.collector.telemetry import Telemetry
from routewatch.exporters.alerts import alerts_to_request

ARN = "arn:aws:sns:us-east-1:123456789012:prod-hybrid-routing-critical-alerts"


@pytest.fixture(autouse=True)
def fresh_history() -> Iterator[None]:
    reset_shared_history()
    yield
    reset_shared_history()


def config(raw: dict[str, Any]) -> Config:
    # No sending queue (unless a test sets one): `consume` returns or raises what the send did.
    raw = {"sending_queue": {"enabled": False}, **raw}
    return decode(Config, raw, "exporters::sns", FACTORY.create_default_config())


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "exporters::sns: topic_arn or topic_arns is required"),
        ({"topic_arn": "prod-alerts"}, "exporters::sns: topic_arn: 'prod-alerts' is not an SNS"),
        (
            {"topic_arns": {"critical": ARN, "warning": ARN, "info": ARN}},
            "exporters::sns: topic_arns has no topic for severity 'error'",
        ),
        ({"topic_arn": ARN, "severities": ["page"]}, "exporters::sns: unknown severity 'page'"),
        ({"topic_arn": ARN, "message_format": "xml"}, "exporters::sns::message_format: invalid"),
        (
            {"topic_arn": ARN, "message_attributes": {"AWS.team": "{team}"}},
            "exporters::sns: message_attributes::AWS.team: name must not start with 'AWS.'",
        ),
        (
            {"topic_arn": ARN, "message_attributes": {"severity": "x"}},
            "exporters::sns: message_attributes::severity: set by the exporter itself",
        ),
    ],
)
def test_config_errors_name_the_key(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        config(raw)
    assert str(err.value).startswith(message), str(err.value)


def test_topic_per_severity_with_fallback_is_valid() -> None:
    cfg = config(
        {
            "topic_arns": {"critical": ARN},
            "topic_arn": ARN + "-other",
            "severities": ["critical", "warning"],
        }
    )
    assert cfg.topic_arns == {"critical": ARN}
    assert config({"topic_arn": ARN + ".fifo"}).topic_arn.endswith(".fifo")


async def test_lifecycle_through_the_factory_against_moto() -> None:
    with moto_server() as moto:
        sns, sqs = moto.client("sns"), moto.client("sqs")
        topic = sns.create_topic(Name="alerts")["TopicArn"]
        queue = sqs.create_queue(QueueName="q")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        sns.subscribe(
            TopicArn=topic,
            Protocol="sqs",
            Endpoint=queue_arn,
            Attributes={"RawMessageDelivery": "true"},
        )
        cfg = config({"topic_arn": topic, "endpoint": moto.endpoint_url, "region": "us-east-1"})
        settings = CreateSettings(
            ComponentID("sns"),
            Kind.EXPORTER,
            Telemetry(),
            logging.getLogger("test.sns"),
            Signal.LOGS,
        )
        exporter = FACTORY.create[Signal.LOGS](settings, cfg, None)

        class Host:
            def get_extension(self, id: ComponentID) -> Any:
                return None

        await exporter.start(Host())
        await exporter.consume(alerts_to_request([sample_alert()], now=1.0))
        # Alert exporters take logs: the factory makes no exporter for other signals (the
        # pipeline graph refuses the config), so no other request type can reach one.
        assert set(FACTORY.create) == {Signal.LOGS}
        await exporter.shutdown()
        await exporter.shutdown()
        body = sqs.receive_message(QueueUrl=queue)["Messages"][0]["Body"]
        assert orjson.loads(body)["fingerprint"] == "7f3a9c1e5b2d4f60"
        [delivery] = shared_history().query()
        assert (delivery.receiver, delivery.channel, delivery.outcome) == (
            "sns",
            "sns",
            "delivered",
        )
        assert delivery.remote_id and delivery.destination == topic
