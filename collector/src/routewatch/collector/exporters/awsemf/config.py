"""Config of the `awsemf` exporter: otelcol-contrib awsemfexporter's keys, plus exporterhelper.

routewatch differences, all additive:
- `output_destination: file` writes one EMF JSON per line to `file_path` (contrib has only
  `cloudwatch` and `stdout`);
- `dimension_rollup_option` defaults to `NoDimensionRollup` (contrib's default is
  `ZeroAndSingleDimensionRollup`, which multiplies the custom metrics billed);
- `flush_interval` (default 1s) and `max_buffered_bytes` (default 64 MiB) bound the
  CloudWatch Logs buffer: when it is full, data is refused with a retryable error;
- `delta_ttl` (default 10m) and `max_delta_series` (default 100,000) bound the
  cumulative-to-delta state;
- `dimension_names` renames attribute keys in the EMF output, for dashboards and alarms
  built on other names. The original system's names, for instance:
  `{hybrid_routing.route: RoutePath, hybrid_routing.operation: OperationType,
  deployment.environment: Environment}` (empty by default: the OTel names are kept).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from routewatch.collector.confmap import Duration
from routewatch.collector.exporterhelper import ExporterHelperConfig
from routewatch.exporters.emf import (
    DimensionRollup,
    EmfConfig,
    LabelMatcher,
    MetricDeclaration,
    MetricDescriptor,
)
from routewatch.exporters.emf.encode import valid_namespace
from routewatch.exporters.emf.units import CLOUDWATCH_UNITS

DEFAULT_LOG_GROUP = "/metrics/default"
DEFAULT_LOG_STREAM = "otel-stream"
DEFAULT_FLUSH_INTERVAL = Duration(1.0)
DEFAULT_MAX_BUFFERED_BYTES = 64 * 1024 * 1024
DEFAULT_DELTA_TTL = Duration(600.0)
DEFAULT_MAX_DELTA_SERIES = 100_000
OUTPUT_DESTINATIONS = ("cloudwatch", "stdout", "file")
# PutRetentionPolicy accepts exactly these (0 = never expire, no call made).
RETENTION_DAYS = frozenset(
    {0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557}
    | {2922, 3288, 3653}
)
MAX_TAGS = 50


@dataclass
class LabelMatcherConfig:
    label_names: list[str] = field(default_factory=list)
    # Joins the label values before matching.
    separator: str = ";"
    regex: str = ""

    def validate(self) -> None:
        if not self.label_names:
            raise ValueError("label_names must not be empty")
        if not self.regex:
            raise ValueError("regex must not be empty")
        _compile(self.regex, "regex")


@dataclass
class MetricDeclarationConfig:
    dimensions: list[list[str]] = field(default_factory=list)
    metric_name_selectors: list[str] = field(default_factory=list)
    label_matchers: list[LabelMatcherConfig] = field(default_factory=list)

    def validate(self) -> None:
        if not self.metric_name_selectors:
            raise ValueError("metric_name_selectors must not be empty")
        for selector in self.metric_name_selectors:
            _compile(selector, "metric_name_selectors")
        for dims in self.dimensions:
            if len(dims) > 30:
                raise ValueError(f"dimension set {dims} has more than 30 dimensions")


@dataclass
class MetricDescriptorConfig:
    metric_name: str = ""
    unit: str = ""
    # Replace a unit the metric already has (otherwise only fill an empty one).
    overwrite: bool = False

    def validate(self) -> None:
        if not self.metric_name:
            raise ValueError("metric_name must not be empty")
        if self.unit not in CLOUDWATCH_UNITS:
            raise ValueError(f"unit {self.unit!r} is not a CloudWatch unit")


@dataclass
class ResourceToTelemetryConfig:
    enabled: bool = False


@dataclass
class Config(ExporterHelperConfig):
    # Empty: `service.namespace/service.name` of the resource, else "default".
    namespace: str = ""
    # Placeholders such as {ClusterName}, {TaskId}, {ServiceName} or any {resource.attribute}.
    log_group_name: str = DEFAULT_LOG_GROUP
    log_stream_name: str = DEFAULT_LOG_STREAM
    output_destination: str = "cloudwatch"
    # With output_destination: file.
    file_path: str = ""
    dimension_rollup_option: str = DimensionRollup.NONE.value
    metric_declarations: list[MetricDeclarationConfig] = field(default_factory=list)
    metric_descriptors: list[MetricDescriptorConfig] = field(default_factory=list)
    resource_to_telemetry_conversion: ResourceToTelemetryConfig = field(
        default_factory=ResourceToTelemetryConfig
    )
    retain_initial_value_of_delta_metric: bool = False
    detailed_metrics: bool = False
    # Days; 0 leaves the group's retention alone (never expire).
    log_retention: int = 0
    # Tags of a log group this exporter creates.
    tags: dict[str, str] = field(default_factory=dict)
    # Empty: the AWS SDK's default region and endpoint.
    region: str = ""
    endpoint: str = ""
    flush_interval: Duration = DEFAULT_FLUSH_INTERVAL
    max_buffered_bytes: int = DEFAULT_MAX_BUFFERED_BYTES
    delta_ttl: Duration = DEFAULT_DELTA_TTL
    max_delta_series: int = DEFAULT_MAX_DELTA_SERIES
    dimension_names: dict[str, str] = field(default_factory=dict)

    def validate(self) -> None:
        super().validate()
        if self.namespace and not valid_namespace(self.namespace):
            raise ValueError(
                f"namespace {self.namespace!r} is not a valid CloudWatch namespace "
                "(1-255 printable ASCII characters, not starting with AWS/)"
            )
        if self.output_destination not in OUTPUT_DESTINATIONS:
            raise ValueError(
                f"output_destination must be one of {', '.join(OUTPUT_DESTINATIONS)}, "
                f"not {self.output_destination!r}"
            )
        if self.output_destination == "file" and not self.file_path:
            raise ValueError("file_path is required when output_destination is file")
        rollups = [r.value for r in DimensionRollup]
        if self.dimension_rollup_option not in rollups:
            raise ValueError(f"dimension_rollup_option must be one of {', '.join(rollups)}")
        if self.log_retention not in RETENTION_DAYS:
            raise ValueError(f"log_retention {self.log_retention} is not a valid retention")
        if len(self.tags) > MAX_TAGS:
            raise ValueError(f"tags: at most {MAX_TAGS} tags")
        for key, value in self.tags.items():
            if not 1 <= len(key) <= 128 or len(value) > 256:
                raise ValueError(f"tags: invalid tag {key!r}")
        if not self.log_group_name or not self.log_stream_name:
            raise ValueError("log_group_name and log_stream_name must not be empty")
        if self.flush_interval <= 0:
            raise ValueError("flush_interval must be positive")
        if self.max_buffered_bytes < 1_048_576:
            raise ValueError("max_buffered_bytes must be at least 1048576 (one batch)")
        if self.delta_ttl <= 0 or self.max_delta_series <= 0:
            raise ValueError("delta_ttl and max_delta_series must be positive")
        for key, name in self.dimension_names.items():
            if not 1 <= len(name) <= 255 or name.startswith(":") or not name.isascii():
                raise ValueError(f"dimension_names: invalid dimension name {name!r} for {key!r}")

    def emf_config(self) -> EmfConfig:
        return EmfConfig(
            namespace=self.namespace,
            dimension_rollup_option=DimensionRollup(self.dimension_rollup_option),
            metric_declarations=tuple(
                MetricDeclaration(
                    dimensions=tuple(tuple(d) for d in decl.dimensions),
                    metric_name_selectors=tuple(decl.metric_name_selectors),
                    label_matchers=tuple(
                        LabelMatcher(tuple(m.label_names), m.regex, m.separator)
                        for m in decl.label_matchers
                    ),
                )
                for decl in self.metric_declarations
            ),
            metric_descriptors=tuple(
                MetricDescriptor(d.metric_name, d.unit, d.overwrite)
                for d in self.metric_descriptors
            ),
            resource_to_telemetry_conversion=self.resource_to_telemetry_conversion.enabled,
            retain_initial_value_of_delta_metric=self.retain_initial_value_of_delta_metric,
            detailed_metrics=self.detailed_metrics,
            dimension_names=dict(self.dimension_names),
        )


def _compile(pattern: str, key: str) -> None:
    try:
        re.compile(pattern)
    except re.error as err:
        raise ValueError(f"{key}: invalid regex {pattern!r}: {err}") from err
