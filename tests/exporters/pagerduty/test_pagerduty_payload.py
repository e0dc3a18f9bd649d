"""Events v2 bodies at every limit of the spec: exactly at it, and one past it."""

from __future__ import annotations

from datetime import datetime

import orjson
import pytest
from support.alert_delivery import ROUTING_KEY, sample_alert

from routewatch.collector.devservers.pagerduty_server import validate_event
from routewatch.exporters.pagerduty import (
    MAX_BODY_BYTES,
    MAX_DEDUP_KEY,
    MAX_SUMMARY,
    EventOptions,
    dedup_key,
    resolve_event,
    trigger_event,
)
from routewatch.exporters.pagerduty.payload import TRUNCATION_MARKER

NOW = 1_700_000_100.0


def _trigger(**changes: object) -> tuple[dict, bool, bytes]:
    body, truncated = trigger_event(sample_alert(**changes), ROUTING_KEY, EventOptions(), NOW)
    event, errors = validate_event(body)
    assert errors == [], errors
    assert event is not None
    return event, truncated, body


def test_trigger_event_has_the_spec_fields() -> None:
    event, truncated, _ = _trigger()
    assert not truncated
    assert event["routing_key"] == ROUTING_KEY
    assert event["event_action"] == "trigger"
    assert event["dedup_key"] == "7f3a9c1e5b2d4f60"
    payload = event["payload"]
    assert payload["summary"] == "p95 latency of direct is 16.2 s"
    assert payload["severity"] == "critical"
    assert payload["source"] == "routewatch-hybrid-routing"
    assert datetime.fromisoformat(payload["timestamp"].replace("Z", "+00:00")).timestamp() == (
        1_700_000_000.0
    )
    assert (payload["component"], payload["group"], payload["class"]) == (
        "direct",
        "emergency",
        "RouteLatencyHigh",
    )
    details = payload["custom_details"]
    assert details["value"] == 16.2 and details["threshold"] == "> 15"
    assert details["exemplar_trace_ids"] == ["0af7651916cd43dd8448eb211c80319c"]
    assert details["labels"]["hybrid_routing.route"] == "direct"
    assert "truncated" not in details
    assert event["links"] == [
        {"href": "https://example.com/runbooks/route-latency", "text": "Runbook"},
        {
            "href": "https://tempo.example.com/trace/0af7651916cd43dd8448eb211c80319c",
            "text": "Trace",
        },
    ]
    assert event["client"] == "routewatch"


def test_source_template_uses_labels_with_fallback() -> None:
    alert = sample_alert(labels={"deployment.environment.name": "prod"})
    body, _ = trigger_event(alert, ROUTING_KEY, EventOptions(), NOW)
    assert orjson.loads(body)["payload"]["source"] == "prod-hybrid-routing"


@pytest.mark.parametrize(
    ("severity", "mapped"),
    [
        ("critical", "critical"),
        ("error", "error"),
        ("warning", "warning"),
        ("info", "info"),
        ("warn", "warning"),
        ("bogus", "warning"),
    ],
)
def test_severity_is_mapped_to_the_spec_enum(severity: str, mapped: str) -> None:
    event, _, _ = _trigger(severity=severity)
    assert event["payload"]["severity"] == mapped


def test_images_only_with_https_src() -> None:
    annotations = {
        "summary": "s",
        "image_url": "https://grafana.example.com/render/p95.png",
        "image_url_http": "http://insecure.example.com/p.png",
    }
    event, _, _ = _trigger(annotations=annotations)
    assert [i["src"] for i in event["images"]] == ["https://grafana.example.com/render/p95.png"]


def test_summary_at_1024_kept_and_1025_truncated_with_marker() -> None:
    at_limit, truncated, _ = _trigger(annotations={"summary": "s" * MAX_SUMMARY})
    assert at_limit["payload"]["summary"] == "s" * MAX_SUMMARY and not truncated
    past, _, _ = _trigger(annotations={"summary": "s" * (MAX_SUMMARY + 1)})
    summary = past["payload"]["summary"]
    assert len(summary) == MAX_SUMMARY and summary.endswith(TRUNCATION_MARKER)


def test_dedup_key_at_255_kept_and_256_replaced_by_a_stable_digest() -> None:
    assert dedup_key("f" * MAX_DEDUP_KEY) == "f" * MAX_DEDUP_KEY
    long_key = dedup_key("f" * (MAX_DEDUP_KEY + 1))
    assert len(long_key) <= MAX_DEDUP_KEY
    assert long_key == dedup_key("f" * (MAX_DEDUP_KEY + 1)) != dedup_key("g" * 256)
    event, _, _ = _trigger(fingerprint="f" * (MAX_DEDUP_KEY + 1))
    assert event["dedup_key"] == long_key
    resolve, errors = validate_event(
        resolve_event(sample_alert(fingerprint="f" * 256), ROUTING_KEY)
    )
    assert errors == [] and resolve is not None and resolve["dedup_key"] == long_key


def _body_size(description_len: int) -> tuple[int, bool, bytes]:
    alert = sample_alert(annotations={"summary": "big", "description": "d" * description_len})
    body, truncated = trigger_event(alert, ROUTING_KEY, EventOptions(), NOW)
    return len(body), truncated, body


def test_body_exactly_512_kb_is_sent_whole_and_one_byte_more_is_shrunk_and_flagged() -> None:
    base, _, _ = _body_size(0)
    exact = MAX_BODY_BYTES - base
    size, truncated, body = _body_size(exact)
    assert size == MAX_BODY_BYTES and not truncated
    assert validate_event(body)[1] == []

    size, truncated, body = _body_size(exact + 1)
    assert truncated and size <= MAX_BODY_BYTES
    event, errors = validate_event(body)
    assert errors == [] and event is not None
    details = event["payload"]["custom_details"]
    assert details["truncated"] is True
    assert details["annotations"]["description"].endswith(TRUNCATION_MARKER)
    assert details["value"] == 16.2  # the numbers survive


def test_huge_labels_everywhere_still_fit() -> None:
    labels = {f"l{i}": "x" * 5000 for i in range(200)}
    links = {f"trace_url_{i}": "https://t.example.com/" + "y" * 5000 for i in range(200)}
    event, truncated, body = _trigger(labels=labels, annotations={"summary": "s", **links})
    assert truncated and len(body) <= MAX_BODY_BYTES
    assert event["payload"]["custom_details"]["truncated"] is True


def test_resolve_event_carries_routing_key_and_dedup_key_only() -> None:
    event = orjson.loads(resolve_event(sample_alert(status="resolved"), ROUTING_KEY))
    assert event == {
        "routing_key": ROUTING_KEY,
        "event_action": "resolve",
        "dedup_key": "7f3a9c1e5b2d4f60",
    }
