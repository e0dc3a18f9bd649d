"""Factory of the `otlp` exporter, registered under `otlp` and its alias `otlp_grpc`."""

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
from routewatch.collector.exporters.otlp.config import OtlpExporterConfig
from routewatch.collector.exporters.otlp.otlp import OtlpGrpcClient

TYPE = "otlp"
ALIAS_TYPE = "otlp_grpc"


def create_default_config() -> OtlpExporterConfig:
    return OtlpExporterConfig()


def _create_for(signal: Signal) -> Callable[[CreateSettings, Any, Consumer | None], Exporter]:
    def create(
        settings: CreateSettings, config: OtlpExporterConfig, _: Consumer | None
    ) -> Exporter:
        client = OtlpGrpcClient(settings, config, signal)
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


def _factory(type_: str) -> Factory:
    return Factory(
        type=type_,
        kind=Kind.EXPORTER,
        create_default_config=create_default_config,
        create={signal: _create_for(signal) for signal in Signal},
        stability={signal: Stability.BETA for signal in Signal},
    )


FACTORY = _factory(TYPE)
FACTORY_GRPC_ALIAS = _factory(ALIAS_TYPE)
