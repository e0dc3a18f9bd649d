"""Factory of the `batch` processor."""

from __future__ import annotations

from routewatch.collector.component import (
    Consumer,
    CreateSettings,
    Factory,
    Kind,
    Signal,
    Stability,
)
from routewatch.collector.processors.batch.batch import BatchProcessor
from routewatch.collector.processors.batch.config import BatchConfig

TYPE = "batch"


def create_default_config() -> BatchConfig:
    return BatchConfig()


def create(
    settings: CreateSettings, config: BatchConfig, next_consumer: Consumer | None
) -> BatchProcessor:
    assert next_consumer is not None and settings.signal is not None
    return BatchProcessor(settings, config, settings.signal, next_consumer)


FACTORY = Factory(
    type=TYPE,
    kind=Kind.PROCESSOR,
    create_default_config=create_default_config,
    create={s: create for s in Signal},
    stability={s: Stability.BETA for s in Signal},
)
