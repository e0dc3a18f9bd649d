"""CloudWatch Embedded Metric Format: one core (`encode`) fed by an SDK reader and an OTLP
reader, used by the SDK exporter here and by the collector's `awsemf` exporter."""

from routewatch.exporters.emf.config import (
    DimensionRollup,
    EmfConfig,
    LabelMatcher,
    MetricDeclaration,
    MetricDescriptor,
)
from routewatch.exporters.emf.delta import DeltaTracker
from routewatch.exporters.emf.destination import Destinations, fill_placeholders
from routewatch.exporters.emf.encode import EmfBatch, EmfEncoder, LogEvent
from routewatch.exporters.emf.otlp_reader import read_otlp_metrics
from routewatch.exporters.emf.sdk_exporter import CloudWatchEMFMetricExporter
from routewatch.exporters.emf.sdk_reader import read_sdk_metrics
from routewatch.exporters.emf.stats import Stats

__all__ = [
    "CloudWatchEMFMetricExporter",
    "DeltaTracker",
    "Destinations",
    "DimensionRollup",
    "EmfBatch",
    "EmfConfig",
    "EmfEncoder",
    "LabelMatcher",
    "LogEvent",
    "MetricDeclaration",
    "MetricDescriptor",
    "Stats",
    "fill_placeholders",
    "read_otlp_metrics",
    "read_sdk_metrics",
]
