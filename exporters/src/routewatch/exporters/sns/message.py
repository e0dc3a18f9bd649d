"""SNS Publish parameters for one alert step, within SNS's limits.

Limits (shared/reference/specs.md): message plus attribute names, types and values at most
262,144 bytes; subject printable ASCII, no line breaks, at most 99 characters; attribute names
`[A-Za-z0-9_.-]{1,256}`, not starting or ending with `.`, no `..`, not starting with `AWS.` or
`Amazon.`, values never empty; FIFO group and deduplication ids at most 128 characters of
alphanumerics and punctuation. Sizes are met by truncation that says so (a `truncated`
attribute and a marker in the message), never by a failed publish.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import orjson

from routewatch.exporters.alerts import Alert
from routewatch.exporters.delivery.dispatch import notification_key
from routewatch.exporters.delivery.plan import Action, Step
from routewatch.exporters.delivery.template import ROUTE_LABEL, iso8601, render

MAX_MESSAGE_BYTES = 262_144
MAX_SUBJECT = 99
MAX_FIFO_ID = 128
MAX_ATTRIBUTE_NAME = 256
# Attribute values are for filter policies: short by nature, cut past this.
MAX_ATTRIBUTE_VALUE = 1024
TRUNCATION_MARKER = "…[truncated]"
DEFAULT_SUBJECT = "[{status}] {severity} {alertname} {route|}"
DEFAULT_TEXT = (
    "{alertname} is {status} ({severity})\n{summary}\n"
    "value: {value|n/a} threshold: {threshold|n/a}\nroute: {route|n/a}\n"
    "runbook: {runbook_url|n/a}\nfingerprint: {fingerprint}"
)

_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,256}$")
_FIFO_ID = re.compile(r"^[A-Za-z0-9!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]{1,128}$")
_NOT_PRINTABLE = re.compile(r"[^\x20-\x7e]+")

MessageFormat = Literal["json", "text"]


def attribute_name_error(name: str) -> str | None:
    """Why `name` is not a valid SNS message attribute name, or None when it is."""
    if not _NAME.match(name):
        return "must be 1 to 256 characters of A-Z a-z 0-9 _ - ."
    if name.startswith(".") or name.endswith("."):
        return "must not start or end with '.'"
    if ".." in name:
        return "must not contain '..'"
    if name.lower().startswith(("aws.", "amazon.")):
        return "must not start with 'AWS.' or 'Amazon.'"
    return None


def sanitize_subject(text: str, fallback: str = "routewatch alert") -> str:
    """Printable ASCII on one line, at most 99 characters (SNS rejects anything else)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    single = " ".join(_NOT_PRINTABLE.sub(" ", ascii_text).split())
    if not single:
        single = " ".join(_NOT_PRINTABLE.sub(" ", fallback).split()) or "routewatch alert"
    if len(single) > MAX_SUBJECT:
        single = single[: MAX_SUBJECT - 3].rstrip() + "..."
    return single


def fifo_id(text: str) -> str:
    """`text` when it is a valid FIFO group/deduplication id, else its SHA-256 (64 hex)."""
    if _FIFO_ID.match(text):
        return text
    return hashlib.sha256(text.encode()).hexdigest()


def _attribute(value: str) -> dict[str, str]:
    if len(value) > MAX_ATTRIBUTE_VALUE:
        value = value[: MAX_ATTRIBUTE_VALUE - len(TRUNCATION_MARKER)] + TRUNCATION_MARKER
    return {"DataType": "String", "StringValue": value}


def attributes_size(attributes: Mapping[str, Mapping[str, str]]) -> int:
    """Bytes SNS counts for attributes: each name, type and value."""
    return sum(
        len(name.encode()) + len(a["DataType"].encode()) + len(a["StringValue"].encode())
        for name, a in attributes.items()
    )


def publish_size(message: str, attributes: Mapping[str, Mapping[str, str]]) -> int:
    return len(message.encode()) + attributes_size(attributes)


def _json_message(alert: Alert, limit: int | None) -> dict[str, Any]:
    def cut(text: str) -> str:
        if limit is None or len(text) <= limit:
            return text
        return text[: limit - len(TRUNCATION_MARKER)] + TRUNCATION_MARKER

    doc: dict[str, Any] = {
        "alertname": cut(alert.alertname),
        "status": alert.status,
        "severity": cut(alert.severity),
        "fingerprint": cut(alert.fingerprint),
        "summary": cut(alert.summary),
    }
    if alert.value is not None:
        doc["value"] = alert.value
    if alert.threshold is not None:
        doc["threshold"] = cut(alert.threshold)
    if alert.starts_at:
        doc["starts_at"] = iso8601(alert.starts_at)
    if alert.ends_at is not None:
        doc["ends_at"] = iso8601(alert.ends_at)
    doc["labels"] = {k: cut(v) for k, v in alert.labels.items()}
    doc["annotations"] = {k: cut(v) for k, v in alert.annotations.items()}
    if alert.exemplar_trace_ids:
        doc["exemplar_trace_ids"] = [cut(t) for t in alert.exemplar_trace_ids[:10]]
    if alert.notification_id:
        doc["notification_id"] = cut(alert.notification_id)
    return doc


def _cut_utf8(text: str, max_bytes: int) -> str:
    """The longest prefix of `text` whose UTF-8 plus the marker fit `max_bytes`."""
    room = max_bytes - len(TRUNCATION_MARKER.encode())
    return text.encode()[: max(room, 0)].decode("utf-8", "ignore") + TRUNCATION_MARKER


@dataclass(frozen=True)
class MessageOptions:
    format: MessageFormat = "json"
    template: str = DEFAULT_TEXT
    subject: str = DEFAULT_SUBJECT
    # Extra attributes: name -> template (names checked with attribute_name_error).
    attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PublishInput:
    message: str
    subject: str
    attributes: dict[str, dict[str, str]]
    group_id: str | None = None
    dedup_id: str | None = None
    truncated: bool = False

    def kwargs(self, topic_arn: str) -> dict[str, Any]:
        """Arguments of botocore's `sns.publish`."""
        params: dict[str, Any] = {
            "TopicArn": topic_arn,
            "Message": self.message,
            "Subject": self.subject,
            "MessageAttributes": self.attributes,
        }
        if self.group_id is not None:
            params["MessageGroupId"] = self.group_id
        if self.dedup_id is not None:
            params["MessageDeduplicationId"] = self.dedup_id
        return params

    @property
    def size(self) -> int:
        return publish_size(self.message, self.attributes)


def publish_input(alert: Alert, step: Step, options: MessageOptions, fifo: bool) -> PublishInput:
    """What to publish for `step` of `alert` (a resolve step tells a topic the alert ended)."""
    # A resolve the channel derived from a firing alert (level change) must not reuse the
    # firing notification's FIFO deduplication id, or SNS would swallow it for 5 minutes.
    derived_resolve = step.action is Action.RESOLVE and alert.status == "firing"
    if step.action is Action.RESOLVE:
        alert = replace(alert, status="resolved", severity=step.severity)
    attributes = {
        "severity": _attribute(alert.severity),
        "alertname": _attribute(alert.alertname),
        "status": _attribute(alert.status),
    }
    if alert.labels.get(ROUTE_LABEL):
        attributes["route"] = _attribute(alert.labels[ROUTE_LABEL])
    for name, template in options.attributes.items():
        value = render(template, alert)
        if value:
            attributes[name] = _attribute(value)
    subject = sanitize_subject(render(options.subject, alert), alert.alertname)

    if options.format == "json":
        stages = [_json_message(alert, None), _json_message(alert, MAX_ATTRIBUTE_VALUE)]
        stages.append({k: v for k, v in stages[1].items() if k not in ("labels", "annotations")})
        candidates = [orjson.dumps(doc).decode() for doc in stages]
    else:
        candidates = [render(options.template, alert)]
    message = candidates[0]
    truncated = publish_size(message, attributes) > MAX_MESSAGE_BYTES
    if truncated:
        attributes["truncated"] = _attribute("true")
        budget = MAX_MESSAGE_BYTES - attributes_size(attributes)
        for stage, candidate in enumerate(candidates[1:], start=1):
            message = candidate
            if options.format == "json":
                # Flag it in the message too, for subscribers that ignore attributes.
                message = orjson.dumps({**stages[stage], "truncated": True}).decode()
            if len(message.encode()) <= budget:
                break
        else:
            message = _cut_utf8(message, budget)
    group_id = dedup_id = None
    if fifo:
        group_id = fifo_id(alert.fingerprint)
        base = alert.notification_id or notification_key(alert)
        dedup_id = fifo_id(f"{base}:resolve" if derived_resolve else base)
    return PublishInput(message, subject, attributes, group_id, dedup_id, truncated)
