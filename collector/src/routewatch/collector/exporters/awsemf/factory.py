"""Factory of the `awsemf` exporter (metrics)."""

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
from routewatch.collector.exporters.awsemf.awsemf import AwsEmfExporter
from routewatch.collector.exporters.awsemf.config import Config

TYPE = "awsemf"


def create_default_config() -> Config:
    return Config()


def create_metrics(settings: CreateSettings, config: Any, _next: Consumer | None) -> Any:
    return AwsEmfExporter(settings, config).component


FACTORY = Factory(
    type=TYPE,
    kind=Kind.EXPORTER,
    create_default_config=create_default_config,
    create={Signal.METRICS: create_metrics},
    stability={Signal.METRICS: Stability.BETA},
)
