"""PagerDuty Events API v2: payloads within the spec's limits, delivery with retry and a
token bucket per routing key. No collector imports: the `pagerduty` collector exporter and
`routewatch alerts send-test` are thin layers over this core."""

from routewatch.exporters.pagerduty.client import PagerDutyClient
from routewatch.exporters.pagerduty.notifier import PagerDutyNotifier, PagerDutyOptions
from routewatch.exporters.pagerduty.payload import (
    DEFAULT_SOURCE,
    EVENTS_URL,
    MAX_BODY_BYTES,
    MAX_DEDUP_KEY,
    MAX_SUMMARY,
    ROUTING_KEY_LENGTH,
    SEVERITIES,
    EventOptions,
    dedup_key,
    resolve_event,
    trigger_event,
)

__all__ = [
    "DEFAULT_SOURCE",
    "EVENTS_URL",
    "MAX_BODY_BYTES",
    "MAX_DEDUP_KEY",
    "MAX_SUMMARY",
    "ROUTING_KEY_LENGTH",
    "SEVERITIES",
    "EventOptions",
    "PagerDutyClient",
    "PagerDutyNotifier",
    "PagerDutyOptions",
    "dedup_key",
    "resolve_event",
    "trigger_event",
]
