"""Factory of the `file` exporter."""

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
from routewatch.collector.exporters.file.config import FileExporterConfig
from routewatch.collector.exporters.file.file import FileExporter

TYPE = "file"


def create_default_config() -> FileExporterConfig:
    return FileExporterConfig()


def _create_for(signal: Signal) -> Callable[[CreateSettings, Any, Consumer | None], Exporter]:
    def create(
        settings: CreateSettings, config: FileExporterConfig, _: Consumer | None
    ) -> Exporter:
        exporter = FileExporter(settings, config)
        return new_exporter(
            settings,
            config,
            signal,
            exporter.push,
            start=exporter.start,
            shutdown=exporter.shutdown,
        )

    return create


FACTORY = Factory(
    type=TYPE,
    kind=Kind.EXPORTER,
    create_default_config=create_default_config,
    create={signal: _create_for(signal) for signal in Signal},
    stability={signal: Stability.ALPHA for signal in Signal},
)
