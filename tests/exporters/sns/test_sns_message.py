"""SNS Publish parameters at every limit: exactly at it, and one past it."""

from __future__ import annotations

import orjson
import pytest
from support.alert_delivery import sample_alert

from routewatch.exporters.delivery import Action, Step
from routewatch.exporters.sns import (
    MAX_FIFO_ID,
    MAX_MESSAGE_BYTES,
    MAX_SUBJECT,
    MessageOptions,
    PublishInput,
    attribute_name_error,
    fifo_id,
    publish_input,
    sanitize_subject,
)
from routewatch.exporters.sns.message import TRUNCATION_MARKER

TOPIC = "arn:aws:sns:us-east-1:123456789012:prod-hybrid-routing-critical-alerts"
TRIGGER = Step(TOPIC, Action.TRIGGER, "critical")


def test_json_message_attributes_and_subject() -> None:
    publish = publish_input(sample_alert(), TRIGGER, MessageOptions(), fifo=False)
    doc = orjson.loads(publish.message)
    assert doc["alertname"] == "RouteLatencyHigh" and doc["value"] == 16.2
    assert doc["labels"]["hybrid_routing.route"] == "direct"
    assert doc["exemplar_trace_ids"] == ["0af7651916cd43dd8448eb211c80319c"]
    assert publish.subject == "[firing] critical RouteLatencyHigh direct"
    assert publish.attributes == {
        "severity": {"DataType": "String", "StringValue": "critical"},
        "alertname": {"DataType": "String", "StringValue": "RouteLatencyHigh"},
        "status": {"DataType": "String", "StringValue": "firing"},
        "route": {"DataType": "String", "StringValue": "direct"},
    }
    assert not publish.truncated and publish.group_id is None and publish.dedup_id is None


def test_text_template_and_extra_attributes() -> None:
    options = MessageOptions(
        format="text",
        template="{alertname} on {route}: {value} ({threshold}) {missing|-}",
        attributes={"team": "{team}", "environment": "{deployment.environment.name}"},
    )
    alert = sample_alert(labels={"hybrid_routing.route": "mcp", "team": "routing"})
    publish = publish_input(alert, TRIGGER, options, fifo=False)
    assert publish.message == "RouteLatencyHigh on mcp: 16.2 (> 15) -"
    assert publish.attributes["team"]["StringValue"] == "routing"
    # an unknown placeholder renders as `unknown`: never an empty attribute value
    assert publish.attributes["environment"]["StringValue"] == "unknown"
    assert all(a["StringValue"] for a in publish.attributes.values())


def test_route_attribute_left_out_when_there_is_no_route() -> None:
    publish = publish_input(sample_alert(labels={}), TRIGGER, MessageOptions(), fifo=False)
    assert "route" not in publish.attributes


def _text_publish(description: str) -> PublishInput:
    alert = sample_alert(annotations={"summary": "s", "description": description})
    options = MessageOptions(format="text", template="{description}")
    return publish_input(alert, TRIGGER, options, fifo=False)


@pytest.mark.parametrize("char", ["m", "é", "✓"])
def test_message_exactly_at_262144_bytes_with_attributes_and_one_past(char: str) -> None:
    room = MAX_MESSAGE_BYTES - (_text_publish("m").size - 1)  # bytes left by the attributes
    width = len(char.encode())
    # multi-byte characters, padded with ASCII to land exactly on the limit
    description = char * (room // width) + "m" * (room % width)
    exact = _text_publish(description)
    assert exact.size == MAX_MESSAGE_BYTES
    assert exact.message == description
    assert not exact.truncated and "truncated" not in exact.attributes

    past = _text_publish(description + char)
    assert past.truncated and past.size <= MAX_MESSAGE_BYTES
    assert past.attributes["truncated"]["StringValue"] == "true"
    assert past.message.endswith(TRUNCATION_MARKER)
    assert past.message.startswith(char * 100)


def test_json_message_past_the_limit_is_valid_json_flagged_truncated() -> None:
    alert = sample_alert(annotations={"summary": "s", "description": "é" * 200_000})
    publish = publish_input(alert, TRIGGER, MessageOptions(), fifo=False)
    assert publish.truncated and publish.size <= MAX_MESSAGE_BYTES
    doc = orjson.loads(publish.message)
    assert doc["truncated"] is True and doc["value"] == 16.2
    assert doc["annotations"]["description"].endswith(TRUNCATION_MARKER)


@pytest.mark.parametrize(
    ("text", "subject"),
    [
        ("s" * 99, "s" * 99),
        ("s" * 100, "s" * 96 + "..."),
        ("Latenz für Route → direct", "Latenz fur Route direct"),
        ("line one\nline two\r\tend", "line one line two end"),
        ("🔥🔥", "RouteLatencyHigh"),
    ],
)
def test_subject_is_printable_ascii_of_at_most_99(text: str, subject: str) -> None:
    cleaned = sanitize_subject(text, fallback="RouteLatencyHigh")
    assert cleaned == subject and len(cleaned) <= MAX_SUBJECT
    assert all(0x20 <= ord(c) <= 0x7E for c in cleaned)


def test_fifo_ids_at_128_kept_and_129_hashed() -> None:
    assert fifo_id("a" * MAX_FIFO_ID) == "a" * MAX_FIFO_ID
    hashed = fifo_id("a" * (MAX_FIFO_ID + 1))
    assert len(hashed) == 64 and hashed == fifo_id("a" * 129)
    assert fifo_id("has space") != "has space" and len(fifo_id("é")) == 64
    assert fifo_id("fp:1/2-{x}") == "fp:1/2-{x}"


def test_fifo_dedup_id_differs_between_trigger_repeat_and_resolve() -> None:
    trigger = publish_input(sample_alert(notification_id="fp-1"), TRIGGER, MessageOptions(), True)
    repeat = publish_input(sample_alert(notification_id="fp-2"), TRIGGER, MessageOptions(), True)
    resolve = publish_input(
        sample_alert(status="resolved", notification_id="fp-3"),
        Step(TOPIC, Action.RESOLVE, "critical"),
        MessageOptions(),
        True,
    )
    # a resolve the channel derives from a firing notification (level change, other topic)
    derived = publish_input(
        sample_alert(notification_id="fp-1", severity="warning"),
        Step(TOPIC, Action.RESOLVE, "critical"),
        MessageOptions(),
        True,
    )
    ids = [p.dedup_id for p in (trigger, repeat, resolve, derived)]
    assert len(set(ids)) == 4
    assert {p.group_id for p in (trigger, repeat, resolve, derived)} == {"7f3a9c1e5b2d4f60"}
    assert derived.attributes["status"]["StringValue"] == "resolved"
    assert derived.attributes["severity"]["StringValue"] == "critical"
    long = publish_input(
        sample_alert(notification_id="n" * 129, fingerprint="f" * 129),
        TRIGGER,
        MessageOptions(),
        True,
    )
    assert len(long.dedup_id or "") == 64 and len(long.group_id or "") == 64


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("severity", True),
        ("hybrid_routing.route", True),
        ("a-b_c.d", True),
        ("a" * 256, True),
        ("a" * 257, False),
        ("", False),
        (".route", False),
        ("route.", False),
        ("a..b", False),
        ("AWS.route", False),
        ("amazon.route", False),
        ("has space", False),
        ("émoji", False),
    ],
)
def test_attribute_name_rules(name: str, valid: bool) -> None:
    assert (attribute_name_error(name) is None) is valid
