"""Collector configuration: load YAML files, expand the environment, validate, resolve."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from routewatch.collector.config.load import load, merge, parse_yaml
from routewatch.collector.config.model import Config, Pipeline, PipelineID, TelemetryConfig
from routewatch.collector.config.resolve import resolve
from routewatch.collector.registry import Registry


def load_config(
    paths: Iterable[str | Path], registry: Registry, env: Mapping[str, str] | None = None
) -> Config:
    """Read `paths` (merged in order), expand `${...}`, validate and resolve."""
    return resolve(load(paths, env), registry)


__all__ = [
    "Config",
    "Pipeline",
    "PipelineID",
    "TelemetryConfig",
    "load",
    "load_config",
    "merge",
    "parse_yaml",
    "resolve",
]
