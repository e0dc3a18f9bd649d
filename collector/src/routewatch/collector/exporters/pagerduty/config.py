"""`pagerduty` exporter settings.

```yaml
exporters:
  pagerduty:
    routing_key: ${env:PAGERDUTY_ROUTING_KEY}   # required, 32 characters; never logged
    url: https://events.eu.pagerduty.com/v2/enqueue   # default: the US endpoint
    severities: [critical, error]               # which alerts page; default as the original
    source: "{deployment.environment.name|prod}-hybrid-routing"
    timeout: 5s                                 # per attempt
    retry_on_failure: {initial_interval: 5s}    # backoff on 429, 5xx and network errors
```
"""

from __future__ import annotations

from dataclasses import dataclass, field

from routewatch.collector.exporterhelper import ExporterHelperConfig
from routewatch.exporters.pagerduty import (
    DEFAULT_SOURCE,
    EVENTS_URL,
    ROUTING_KEY_LENGTH,
    SEVERITIES,
)
from routewatch.exporters.pagerduty.notifier import DEFAULT_SEVERITIES, EVENTS_PER_MINUTE


@dataclass
class Config(ExporterHelperConfig):
    # The integration's routing key (repr=False: a config dump never shows it).
    routing_key: str = field(default="", repr=False)
    url: str = EVENTS_URL
    # Severities that trigger an incident; a level change below them resolves it.
    severities: list[str] = field(default_factory=lambda: list(DEFAULT_SEVERITIES))
    # `{placeholder}` template over the alert's fields and labels.
    source: str = DEFAULT_SOURCE
    client: str = "routewatch"
    client_url: str = ""
    # Token bucket per routing key (PagerDuty allows about 120 events per minute).
    events_per_minute: float = EVENTS_PER_MINUTE
    # A `file_storage` extension id: keep the delivery history across restarts.
    history_storage: str | None = None

    def validate(self) -> None:
        super().validate()
        if not self.routing_key:
            raise ValueError("routing_key is required")
        if len(self.routing_key) != ROUTING_KEY_LENGTH:
            # The length only: the key itself is a secret.
            raise ValueError(
                f"routing_key must be {ROUTING_KEY_LENGTH} characters, got {len(self.routing_key)}"
            )
        if not self.url.startswith(("https://", "http://")):
            raise ValueError(f"url must be an http(s) URL, got {self.url!r}")
        unknown = [s for s in self.severities if s not in SEVERITIES]
        if unknown:
            raise ValueError(
                f"severities: unknown severity {unknown[0]!r}, expected some of "
                + ", ".join(SEVERITIES)
            )
        if self.events_per_minute <= 0:
            raise ValueError("events_per_minute must be positive")
        if self.client_url and not self.client_url.startswith(("https://", "http://")):
            raise ValueError(f"client_url must be an http(s) URL, got {self.client_url!r}")
