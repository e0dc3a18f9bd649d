"""Factory of the `health_check` extension."""

from __future__ import annotations

from routewatch.collector.component import CreateSettings, Factory, Kind, Stability
from routewatch.collector.extensions.health_check.config import HealthCheckConfig
from routewatch.collector.extensions.health_check.health_check import HealthCheck

TYPE = "health_check"


def create_default_config() -> HealthCheckConfig:
    return HealthCheckConfig()


def create_extension(settings: CreateSettings, config: HealthCheckConfig) -> HealthCheck:
    return HealthCheck(settings, config)


FACTORY = Factory(
    type=TYPE,
    kind=Kind.EXTENSION,
    create_default_config=create_default_config,
    create_extension=create_extension,
    stability={Kind.EXTENSION: Stability.BETA},
)
