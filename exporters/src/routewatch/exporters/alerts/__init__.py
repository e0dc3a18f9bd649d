"""Alerts as OTLP log records: the contract between the alert connector and alert exporters."""

from routewatch.exporters.alerts.alert import (
    ALERT_EVENT_NAME,
    Alert,
    alerts_from_request,
    alerts_to_request,
    from_log_record,
    to_log_record,
)

__all__ = [
    "ALERT_EVENT_NAME",
    "Alert",
    "alerts_from_request",
    "alerts_to_request",
    "from_log_record",
    "to_log_record",
]
