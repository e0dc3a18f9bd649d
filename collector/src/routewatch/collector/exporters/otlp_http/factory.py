"""Factory of the `otlp_http` exporter."""

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
from routewatch.collector.exporters.otlp_http.config import OtlpHttpExporterConfig
from routewatch.collector.exporters.otlp_http.otlp_http import OtlpHttpClient

TYPE = "otlp_http"


def create_default_config() -> OtlpHttpExporterConfig:
    return OtlpHttpExporterConfig()


def _create_for(signal: Signal) -> Callable[[CreateSettings, Any, Consumer | None], Exporter]:
    def create(
        settings: CreateSettings, config: OtlpHttpExporterConfig, _: Consumer | None
    ) -> Exporter:
        client = OtlpHttpClient(settings, config, signal)
        return new_exporter(
            settings,
            config,
            signal,
            client.push,
            start=client.start,
            shutdown=client.shutdown,
            accepts_encoded=True,
        )

    return create


FACTORY = Factory(
    type=TYPE,
    kind=Kind.EXPORTER,
    create_default_config=create_default_config,
    create={signal: _create_for(signal) for signal in Signal},
    stability={signal: Stability.BETA for signal in Signal},
)
