"""What the alert channels (`sns`, `pagerduty`) share: retry with backoff, a token bucket,
the plan of which notifications a channel sends, and the result of one delivery."""

from routewatch.exporters.delivery.dispatch import Deliverer, Notifier, RequestOutcome
from routewatch.exporters.delivery.plan import Action, OpenNotifications, Step, plan
from routewatch.exporters.delivery.ratelimit import TokenBuckets
from routewatch.exporters.delivery.result import DeliveryResult, Outcome
from routewatch.exporters.delivery.retry import (
    Backoff,
    Clock,
    DeliveryError,
    Sleep,
    call_with_retry,
    redact,
)
from routewatch.exporters.delivery.template import render

__all__ = [
    "Action",
    "Backoff",
    "Clock",
    "Deliverer",
    "DeliveryError",
    "DeliveryResult",
    "Notifier",
    "OpenNotifications",
    "Outcome",
    "RequestOutcome",
    "Sleep",
    "Step",
    "TokenBuckets",
    "call_with_retry",
    "plan",
    "redact",
    "render",
]
