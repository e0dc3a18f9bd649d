"""Turning YAML mappings into typed component configs."""

from routewatch.collector.confmap.decode import Duration, decode, duration_from

__all__ = ["Duration", "decode", "duration_from"]
