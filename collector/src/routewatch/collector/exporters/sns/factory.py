"""Factory of the `sns` exporter (logs)."""

from __future__ import annotations

from typing import Any

from routewatch.collector.component import (
    Consumer,
    CreateSettings,
    Factory,
    Kind,
    Signal,
    Stability,
)
from routewatch.collector.exporterhelper.exporter import Exporter
from routewatch.collector.exporters.sns.config import Config
from routewatch.collector.exporters.sns.sns import new_sns_exporter

TYPE = "sns"


def create_default_config() -> Config:
    return Config()


def create_logs(settings: CreateSettings, config: Any, next_consumer: Consumer | None) -> Exporter:
    return new_sns_exporter(settings, config)


FACTORY = Factory(
    type=TYPE,
    kind=Kind.EXPORTER,
    create_default_config=create_default_config,
    create={Signal.LOGS: create_logs},
    stability={Signal.LOGS: Stability.ALPHA},
)
