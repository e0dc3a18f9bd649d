"""An alert notification and its OTLP log record form (event name `routewatch.alert`).

The `routewatch_alerts` connector emits one record per alert per notification (trigger, repeat,
level change, resolve); the `sns` and `pagerduty` exporters, or a `file`/`otlp` exporter for
audit, consume them. Times are epoch seconds in the dataclass and ISO 8601 UTC strings in the
record so that a person reading the file sees dates.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, SeverityNumber

ALERT_EVENT_NAME = "routewatch.alert"
SCOPE_NAME = "routewatch.alerts"

Status = Literal["firing", "resolved"]
SEVERITIES = ("critical", "error", "warning", "info")
_SEVERITY_NUMBER = {
    "critical": SeverityNumber.SEVERITY_NUMBER_FATAL,
    "error": SeverityNumber.SEVERITY_NUMBER_ERROR,
    "warning": SeverityNumber.SEVERITY_NUMBER_WARN,
    "info": SeverityNumber.SEVERITY_NUMBER_INFO,
}


@dataclass(frozen=True)
class Alert:
    alertname: str
    # Stable identity from rule and label set: PagerDuty dedup_key, SNS FIFO group id.
    fingerprint: str
    status: Status
    severity: str  # critical | error | warning | info
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    starts_at: float = 0.0
    ends_at: float | None = None
    value: float | None = None
    threshold: str | None = None  # e.g. "> 15"
    exemplar_trace_ids: tuple[str, ...] = ()
    group_key: str = ""
    # Unique per notification (trigger, repeat, level change, resolve): SNS dedup id.
    notification_id: str = ""

    @property
    def summary(self) -> str:
        return self.annotations.get("summary") or f"{self.alertname} {self.status}"


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _kv(key: str, value: AnyValue) -> KeyValue:
    return KeyValue(key=key, value=value)


def _str(value: str) -> AnyValue:
    return AnyValue(string_value=value)


def _map(values: Mapping[str, str]) -> AnyValue:
    any_value = AnyValue()
    for k, v in sorted(values.items()):
        any_value.kvlist_value.values.add(key=k, value=_str(v))
    return any_value


def to_log_record(alert: Alert, now: float) -> LogRecord:
    """The record for one notification of `alert`, observed at `now` (epoch seconds)."""
    attrs = [
        _kv("alertname", _str(alert.alertname)),
        _kv("fingerprint", _str(alert.fingerprint)),
        _kv("status", _str(alert.status)),
        _kv("severity", _str(alert.severity)),
        _kv("labels", _map(alert.labels)),
        _kv("annotations", _map(alert.annotations)),
        _kv("starts_at", _str(_iso(alert.starts_at))),
    ]
    if alert.ends_at is not None:
        attrs.append(_kv("ends_at", _str(_iso(alert.ends_at))))
    if alert.value is not None:
        attrs.append(_kv("value", AnyValue(double_value=alert.value)))
    if alert.threshold is not None:
        attrs.append(_kv("threshold", _str(alert.threshold)))
    if alert.exemplar_trace_ids:
        ids = AnyValue()
        for trace_id in alert.exemplar_trace_ids:
            ids.array_value.values.add(string_value=trace_id)
        attrs.append(_kv("exemplar_trace_ids", ids))
    if alert.group_key:
        attrs.append(_kv("group_key", _str(alert.group_key)))
    if alert.notification_id:
        attrs.append(_kv("notification_id", _str(alert.notification_id)))
    nanos = int(now * 1e9)
    return LogRecord(
        time_unix_nano=nanos,
        observed_time_unix_nano=nanos,
        severity_number=_SEVERITY_NUMBER.get(alert.severity, SeverityNumber.SEVERITY_NUMBER_INFO),
        severity_text=alert.severity.upper(),
        body=_str(alert.summary),
        attributes=attrs,
        event_name=ALERT_EVENT_NAME,
    )


def from_log_record(record: LogRecord) -> Alert | None:
    """The alert a record carries, or None when it is not a `routewatch.alert` record."""
    if record.event_name != ALERT_EVENT_NAME:
        return None
    attrs = {kv.key: kv.value for kv in record.attributes}

    def text(key: str, default: str = "") -> str:
        return attrs[key].string_value if key in attrs else default

    def mapping(key: str) -> dict[str, str]:
        if key not in attrs:
            return {}
        return {kv.key: kv.value.string_value for kv in attrs[key].kvlist_value.values}

    status = text("status", "firing")
    return Alert(
        alertname=text("alertname"),
        fingerprint=text("fingerprint"),
        status="resolved" if status == "resolved" else "firing",
        severity=text("severity", "info"),
        labels=mapping("labels"),
        annotations=mapping("annotations"),
        starts_at=_epoch(text("starts_at")) if "starts_at" in attrs else 0.0,
        ends_at=_epoch(text("ends_at")) if "ends_at" in attrs else None,
        value=attrs["value"].double_value if "value" in attrs else None,
        threshold=text("threshold") if "threshold" in attrs else None,
        exemplar_trace_ids=tuple(
            v.string_value for v in attrs["exemplar_trace_ids"].array_value.values
        )
        if "exemplar_trace_ids" in attrs
        else (),
        group_key=text("group_key"),
        notification_id=text("notification_id"),
    )


def alerts_to_request(
    alerts: Iterable[Alert], now: float, resource: Mapping[str, str] | None = None
) -> ExportLogsServiceRequest:
    request = ExportLogsServiceRequest()
    resource_logs = request.resource_logs.add()
    for key, value in sorted((resource or {"service.name": "routewatch"}).items()):
        resource_logs.resource.attributes.add(key=key, value=_str(value))
    scope_logs = resource_logs.scope_logs.add()
    scope_logs.scope.name = SCOPE_NAME
    scope_logs.log_records.extend(to_log_record(a, now) for a in alerts)
    return request


def alerts_from_request(request: ExportLogsServiceRequest) -> Iterator[Alert]:
    """Every alert in a logs request; records of other events are passed over."""
    for resource_logs in request.resource_logs:
        for scope_logs in resource_logs.scope_logs:
            for record in scope_logs.log_records:
                alert = from_log_record(record)
                if alert is not None:
                    yield alert
