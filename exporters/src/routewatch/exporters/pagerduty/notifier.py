"""The PagerDuty channel: which events to send for an alert, rate-limited and retried.

Severities: a trigger goes out for the configured severities (default critical and error, as
the original system paged); a level change below them resolves the incident, and every
incident this channel opened is resolved with the same routing key and dedup_key (see
`routewatch.exporters.delivery.plan` for the rule and why).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from routewatch.exporters.alerts import Alert
from routewatch.exporters.delivery.channel import Channel
from routewatch.exporters.delivery.plan import Action, Step
from routewatch.exporters.delivery.ratelimit import TokenBuckets
from routewatch.exporters.delivery.retry import Backoff
from routewatch.exporters.pagerduty.client import PagerDutyClient
from routewatch.exporters.pagerduty.payload import (
    DEFAULT_SOURCE,
    EVENTS_URL,
    EventOptions,
    resolve_event,
    trigger_event,
)

DEFAULT_SEVERITIES = ("critical", "error")
EVENTS_PER_MINUTE = 120.0


@dataclass(frozen=True)
class PagerDutyOptions:
    routing_key: str = field(repr=False)
    url: str = EVENTS_URL
    severities: tuple[str, ...] = DEFAULT_SEVERITIES
    source: str = DEFAULT_SOURCE
    client: str = "routewatch"
    client_url: str = ""
    events_per_minute: float = EVENTS_PER_MINUTE
    backoff: Backoff = field(default_factory=Backoff)
    # One HTTP request; 0 means none.
    timeout: float = 10.0


class PagerDutyNotifier(Channel):
    channel = "pagerduty"

    def __init__(
        self,
        options: PagerDutyOptions,
        *,
        buckets: TokenBuckets | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(options.backoff, **kwargs)
        self.options = options
        self.event_options = EventOptions(options.source, options.client, options.client_url)
        self.buckets = buckets or TokenBuckets(
            options.events_per_minute, clock=self.clock, sleep=self.sleep
        )
        self.client = PagerDutyClient(
            options.url, timeout=options.timeout, secret=options.routing_key
        )

    def __repr__(self) -> str:
        return f"PagerDutyNotifier(url={self.options.url!r})"

    def home(self, alert: Alert) -> str | None:
        return self.options.url if alert.severity in self.options.severities else None

    def unknown_resolve_to(self, alert: Alert) -> str | None:
        return self.options.url

    async def send(self, alert: Alert, step: Step) -> tuple[str, bool]:
        key = self.options.routing_key
        if step.action is Action.TRIGGER:
            body, truncated = trigger_event(alert, key, self.event_options, self.wall())
        else:
            body, truncated = resolve_event(alert, key), False
        await self.buckets.acquire(key)
        return await self.client.send(body), truncated

    async def close(self) -> None:
        await self.client.close()
