"""The exporter helper: queue -> self-telemetry -> retry -> timeout -> push (as the Go one)."""

from routewatch.collector.exporterhelper.config import (
    ExporterHelperConfig,
    QueueConfig,
    RetryConfig,
)
from routewatch.collector.exporterhelper.exporter import (
    EncodedPushFunc,
    Exporter,
    PushFunc,
    new_exporter,
)
from routewatch.collector.exporterhelper.health import ExporterHealth

__all__ = [
    "EncodedPushFunc",
    "Exporter",
    "ExporterHealth",
    "ExporterHelperConfig",
    "PushFunc",
    "QueueConfig",
    "RetryConfig",
    "new_exporter",
]
