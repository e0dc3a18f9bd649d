"""Factory of the `memory_limiter` processor."""

from __future__ import annotations

from routewatch.collector.component import (
    Consumer,
    CreateSettings,
    Factory,
    Kind,
    Signal,
    Stability,
)
from routewatch.collector.processors.memory_limiter.config import MemoryLimiterConfig
from routewatch.collector.processors.memory_limiter.memory_limiter import MemoryLimiter

TYPE = "memory_limiter"


def create_default_config() -> MemoryLimiterConfig:
    return MemoryLimiterConfig()


def create(
    settings: CreateSettings, config: MemoryLimiterConfig, next_consumer: Consumer | None
) -> MemoryLimiter:
    assert next_consumer is not None
    return MemoryLimiter(settings, config, next_consumer)


FACTORY = Factory(
    type=TYPE,
    kind=Kind.PROCESSOR,
    create_default_config=create_default_config,
    create={s: create for s in Signal},
    stability={s: Stability.BETA for s in Signal},
)
