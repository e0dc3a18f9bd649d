"""The exporter helper: queue -> self-telemetry -> retry -> timeout -> push (as the Go one)."""

from routewatch.collector.exporterhelper.config import (
    ExporterHelperConfig,
    QueueConfig,
    RetryConfig,
)
from routewatch.collector.exporterhelper.exporter import PushFunc, new_exporter

__all__ = ["ExporterHelperConfig", "PushFunc", "QueueConfig", "RetryConfig", "new_exporter"]
