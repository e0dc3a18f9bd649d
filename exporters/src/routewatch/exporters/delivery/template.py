"""`{placeholder}` templates over an alert (SNS text messages, PagerDuty `source`).

Names: alertname, status, severity, fingerprint, summary, description, runbook_url, value,
threshold, starts_at, ends_at, route, operation, then every label and annotation by its
name (`{hybrid_routing.route}`). `{name|fallback}` gives a fallback for a missing name; a
missing name without one renders as `unknown`. Nothing is evaluated: a template is data.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from routewatch.exporters.alerts import Alert

_PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_.\-]+)(?:\|([^{}]*))?\}")
ROUTE_LABEL = "hybrid_routing.route"
OPERATION_LABEL = "hybrid_routing.operation"


def iso8601(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def alert_fields(alert: Alert) -> dict[str, str]:
    """The values a template can name."""
    fields = {**alert.annotations, **alert.labels}
    fields.update(
        alertname=alert.alertname,
        status=alert.status,
        severity=alert.severity,
        fingerprint=alert.fingerprint,
        summary=alert.summary,
    )
    if alert.value is not None:
        fields["value"] = f"{alert.value:g}"
    if alert.threshold is not None:
        fields["threshold"] = alert.threshold
    if alert.starts_at:
        fields["starts_at"] = iso8601(alert.starts_at)
    if alert.ends_at is not None:
        fields["ends_at"] = iso8601(alert.ends_at)
    if ROUTE_LABEL in alert.labels:
        fields["route"] = alert.labels[ROUTE_LABEL]
    if OPERATION_LABEL in alert.labels:
        fields["operation"] = alert.labels[OPERATION_LABEL]
    return fields


def render(template: str, alert: Alert) -> str:
    fields = alert_fields(alert)

    def sub(match: re.Match[str]) -> str:
        value = fields.get(match.group(1))
        if value:
            return value
        fallback = match.group(2)
        return fallback if fallback is not None else "unknown"

    return _PLACEHOLDER.sub(sub, template)
