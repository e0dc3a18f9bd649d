"""Factory of the `debug` exporter."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from routewatch.collector.component import (
    Consumer,
    CreateSettings,
    Factory,
    Kind,
    Signal,
    Stability,
)
from routewatch.collector.exporterhelper import new_exporter
from routewatch.collector.exporterhelper.exporter import Exporter
from routewatch.collector.exporters.debug.config import DebugExporterConfig
from routewatch.collector.exporters.debug.debug import DebugWriter

TYPE = "debug"


def create_default_config() -> DebugExporterConfig:
    return DebugExporterConfig()


def _create_for(signal: Signal) -> Callable[[CreateSettings, Any, Consumer | None], Exporter]:
    def create(
        settings: CreateSettings, config: DebugExporterConfig, _: Consumer | None
    ) -> Exporter:
        return new_exporter(settings, config, signal, DebugWriter(settings, config).push)

    return create


FACTORY = Factory(
    type=TYPE,
    kind=Kind.EXPORTER,
    create_default_config=create_default_config,
    create={signal: _create_for(signal) for signal in Signal},
    stability={signal: Stability.DEVELOPMENT for signal in Signal},
)
