"""Factory of the `routewatch_alerts` connector (metrics -> logs)."""

from __future__ import annotations

from routewatch.collector.component import (
    Consumer,
    CreateSettings,
    Factory,
    Kind,
    Signal,
    Stability,
)
from routewatch.collector.connectors.routewatch_alerts.config import Config
from routewatch.collector.connectors.routewatch_alerts.connector import AlertsConnector
from routewatch.collector.errors import ConfigError

TYPE = "routewatch_alerts"


def create_default_config() -> Config:
    return Config()


def create_metrics_to_logs(
    settings: CreateSettings, config: Config, next_consumer: Consumer | None
) -> AlertsConnector:
    if next_consumer is None:
        raise ConfigError(f"connectors::{settings.id}: needs a logs pipeline to export to")
    return AlertsConnector(settings, config, next_consumer)


FACTORY = Factory(
    type=TYPE,
    kind=Kind.CONNECTOR,
    create_default_config=create_default_config,
    create={(Signal.METRICS, Signal.LOGS): create_metrics_to_logs},
    stability={(Signal.METRICS, Signal.LOGS): Stability.ALPHA},
)
