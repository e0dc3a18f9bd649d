"""Events API v2 bodies, exactly per the spec, and kept within its limits.

Limits (shared/reference/specs.md): `dedup_key` <= 255 characters, `summary` <= 1024,
whole body <= 512 KB. A limit is met by shrinking, never by failing the send: the summary is
cut with a marker, an over-long fingerprint is replaced by its digest (stable, so still one
incident), and an over-large body loses detail from `custom_details` first, flagged with
`"truncated": true`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from routewatch.exporters.alerts import Alert
from routewatch.exporters.delivery.template import (
    OPERATION_LABEL,
    ROUTE_LABEL,
    iso8601,
    render,
)

EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
ROUTING_KEY_LENGTH = 32
MAX_DEDUP_KEY = 255
MAX_SUMMARY = 1024
MAX_BODY_BYTES = 512 * 1024
SEVERITIES = ("critical", "error", "warning", "info")
TRUNCATION_MARKER = "…[truncated]"
# `<env>-hybrid-routing` as the original system named its source.
DEFAULT_SOURCE = "{deployment.environment.name|routewatch}-hybrid-routing"
# Free-text fields other than the summary have no documented limit; keep them readable.
_MAX_FIELD = 1024
_MAX_LINKS = 10
_BULKY = ("labels", "annotations")
_SEVERITY_ALIASES = {"fatal": "critical", "page": "critical", "warn": "warning", "notice": "info"}


@dataclass(frozen=True)
class EventOptions:
    source: str = DEFAULT_SOURCE
    client: str = "routewatch"
    client_url: str = ""


def dedup_key(fingerprint: str) -> str:
    """The fingerprint, or a digest of it when longer than PagerDuty allows."""
    if len(fingerprint) <= MAX_DEDUP_KEY:
        return fingerprint
    return "sha256:" + hashlib.sha256(fingerprint.encode()).hexdigest()


def truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: limit - len(TRUNCATION_MARKER)] + TRUNCATION_MARKER


def pagerduty_severity(severity: str) -> str:
    severity = severity.lower()
    if severity in SEVERITIES:
        return severity
    return _SEVERITY_ALIASES.get(severity, "warning")


def _links(annotations: Mapping[str, str]) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """links[] from `*_url` annotations (runbook first); images[] from `image_url*` (https)."""
    links: list[dict[str, str]] = []
    images: list[dict[str, str]] = []
    for key in sorted(annotations, key=lambda k: (k != "runbook_url", k)):
        url = annotations[key]
        if key.startswith("image_url"):
            if url.startswith("https://"):
                images.append({"src": url, "alt": key})
        elif ("_url" in key or key.endswith("url")) and url.startswith(("http://", "https://")):
            text = key.removesuffix("_url").replace("_url", "").replace("_", " ").strip()
            links.append({"href": url, "text": text.capitalize() or "Link"})
    return links, images


def _details(alert: Alert, limit: int | None) -> dict[str, Any]:
    def cut(text: str) -> str:
        return truncate(text, limit) if limit is not None else text

    details: dict[str, Any] = {
        "alertname": cut(alert.alertname),
        "status": alert.status,
        "severity": cut(alert.severity),
        "fingerprint": cut(alert.fingerprint),
    }
    if alert.value is not None:
        details["value"] = alert.value
    if alert.threshold is not None:
        details["threshold"] = cut(alert.threshold)
    if alert.starts_at:
        details["starts_at"] = iso8601(alert.starts_at)
    if alert.ends_at is not None:
        details["ends_at"] = iso8601(alert.ends_at)
    details["labels"] = {k: cut(v) for k, v in alert.labels.items()}
    annotations = {k: cut(v) for k, v in alert.annotations.items() if k != "summary"}
    if annotations:
        details["annotations"] = annotations
    if alert.exemplar_trace_ids:
        details["exemplar_trace_ids"] = [cut(t) for t in alert.exemplar_trace_ids[:_MAX_LINKS]]
    if alert.notification_id:
        details["notification_id"] = cut(alert.notification_id)
    return details


def trigger_event(
    alert: Alert, routing_key: str, options: EventOptions, now: float
) -> tuple[bytes, bool]:
    """The JSON body of a trigger for `alert`, and whether it had to be shrunk."""
    links, images = _links(alert.annotations)
    payload: dict[str, Any] = {
        "summary": truncate(alert.summary, MAX_SUMMARY),
        "source": truncate(render(options.source, alert), _MAX_FIELD),
        "severity": pagerduty_severity(alert.severity),
        "timestamp": iso8601(alert.starts_at or now),
        "class": truncate(alert.alertname, _MAX_FIELD),
    }
    for field_name, label in (("component", ROUTE_LABEL), ("group", OPERATION_LABEL)):
        if alert.labels.get(label):
            payload[field_name] = truncate(alert.labels[label], _MAX_FIELD)
    event: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": dedup_key(alert.fingerprint),
        "payload": payload,
    }
    if options.client:
        event["client"] = options.client
    if options.client_url:
        event["client_url"] = options.client_url
    # Most detail first; each later stage is smaller. The last one is bounded by the limits
    # of its fields, far below MAX_BODY_BYTES.
    stages: list[tuple[dict[str, Any], list[dict[str, str]], list[dict[str, str]]]] = [
        (_details(alert, None), links, images),
        (_details(alert, _MAX_FIELD), links[:_MAX_LINKS], images[:_MAX_LINKS]),
        (
            {k: v for k, v in _details(alert, _MAX_FIELD).items() if k not in _BULKY},
            [{"href": link["href"], "text": link["text"]} for link in links[:1]]
            if links and len(links[0]["href"]) <= _MAX_FIELD
            else [],
            [],
        ),
    ]
    body = b""
    for stage, (details, stage_links, stage_images) in enumerate(stages):
        if stage:
            details["truncated"] = True
        event["payload"]["custom_details"] = details
        event.pop("links", None)
        event.pop("images", None)
        if stage_links:
            event["links"] = stage_links
        if stage_images:
            event["images"] = stage_images
        body = orjson.dumps(event)
        if len(body) <= MAX_BODY_BYTES:
            return body, stage > 0
    return body, True


def resolve_event(alert: Alert, routing_key: str) -> bytes:
    """A resolve: only the routing key and dedup_key matter (the trigger's, by construction)."""
    return orjson.dumps(
        {
            "routing_key": routing_key,
            "event_action": "resolve",
            "dedup_key": dedup_key(alert.fingerprint),
        }
    )
