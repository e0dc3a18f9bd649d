"""The `pagerduty` exporter: the PagerDuty channel inside the exporter helper."""

from __future__ import annotations

from typing import Any

from routewatch.collector.component import CreateSettings
from routewatch.collector.exporterhelper.exporter import Exporter
from routewatch.collector.exporters.alertchannel import (
    backoff_from,
    new_alert_exporter,
    open_notifications,
)
from routewatch.collector.exporters.pagerduty.config import Config
from routewatch.exporters.delivery import TokenBuckets
from routewatch.exporters.pagerduty import PagerDutyNotifier, PagerDutyOptions

# PagerDuty's limit is per routing key, whichever exporter sends: exporters of one process
# share buckets (per rate) unless a test gives its own clocks.
_SHARED_BUCKETS: dict[float, TokenBuckets] = {}


def shared_buckets(events_per_minute: float) -> TokenBuckets:
    buckets = _SHARED_BUCKETS.get(events_per_minute)
    if buckets is None:
        buckets = _SHARED_BUCKETS[events_per_minute] = TokenBuckets(events_per_minute)
    return buckets


def notifier_from(settings: CreateSettings, config: Config, **clocks: Any) -> PagerDutyNotifier:
    """The channel for `config`; `clocks` (clock, wall, sleep, rand) are for tests."""
    options = PagerDutyOptions(
        routing_key=config.routing_key,
        url=config.url,
        severities=tuple(config.severities),
        source=config.source,
        client=config.client,
        client_url=config.client_url,
        events_per_minute=config.events_per_minute,
        backoff=backoff_from(config.retry_on_failure),
        timeout=float(config.timeout),
    )
    return PagerDutyNotifier(
        options,
        buckets=None if clocks else shared_buckets(config.events_per_minute),
        open_notifications=open_notifications(str(settings.id)),
        **clocks,
    )


def new_pagerduty_exporter(settings: CreateSettings, config: Config, **clocks: Any) -> Exporter:
    return new_alert_exporter(
        settings,
        config,
        notifier_from(settings, config, **clocks),
        history_storage=config.history_storage,
        secret=config.routing_key,
    )
