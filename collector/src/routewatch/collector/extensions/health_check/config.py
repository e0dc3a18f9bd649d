"""`health_check` settings: the Go collector's healthcheck keys plus a readiness answer."""

from __future__ import annotations

from dataclasses import dataclass, field

from routewatch.collector.confmap import Duration

DEFAULT_ENDPOINT = "localhost:13133"
DEFAULT_PATH = "/"
DEFAULT_READY_PATH = "/ready"
DEFAULT_WINDOW = Duration(60.0)
DEFAULT_MAX_FAILURE_RATIO = 0.5
DEFAULT_MIN_SENDS = 5
DEFAULT_MAX_QUEUE_FILL = 0.8
DEFAULT_PIPELINE_INTERVAL = Duration(300.0)
DEFAULT_FAILURE_THRESHOLD = 5


@dataclass
class ResponseBodyConfig:
    # Replace the JSON body with these texts (as in the Go extension); empty keeps the JSON.
    healthy: str = ""
    unhealthy: str = ""


@dataclass
class CheckCollectorPipelineConfig:
    """The Go extension's (deprecated there) pipeline check: `path` turns 503 when an exporter
    failed more than `exporter_failure_threshold` sends within `interval`."""

    enabled: bool = False
    interval: Duration = DEFAULT_PIPELINE_INTERVAL
    exporter_failure_threshold: int = DEFAULT_FAILURE_THRESHOLD

    def validate(self) -> None:
        if self.enabled and self.interval <= 0:
            raise ValueError("'interval' must be greater than zero")
        if self.exporter_failure_threshold < 1:
            raise ValueError("'exporter_failure_threshold' must be at least 1")


@dataclass
class ReadinessConfig:
    """`path` answers 503 when an exporter is failing or its queue is nearly full."""

    path: str = DEFAULT_READY_PATH
    # Sends considered: the last `window`, and only with at least `min_sends` of them.
    window: Duration = DEFAULT_WINDOW
    min_sends: int = DEFAULT_MIN_SENDS
    # Unready above this share of failed sends.
    max_failure_ratio: float = DEFAULT_MAX_FAILURE_RATIO
    # Unready above this fill of a sending queue.
    max_queue_fill: float = DEFAULT_MAX_QUEUE_FILL

    def validate(self) -> None:
        if not self.path.startswith("/"):
            raise ValueError("'path' must start with /")
        if not 0 < self.window <= 300:
            raise ValueError("'window' must be within (0s, 5m]")
        if not 0 <= self.max_failure_ratio <= 1:
            raise ValueError("'max_failure_ratio' must be within [0, 1]")
        if not 0 < self.max_queue_fill <= 1:
            raise ValueError("'max_queue_fill' must be within (0, 1]")


@dataclass
class HealthCheckConfig:
    endpoint: str = DEFAULT_ENDPOINT
    path: str = DEFAULT_PATH
    response_body: ResponseBodyConfig | None = None
    check_collector_pipeline: CheckCollectorPipelineConfig = field(
        default_factory=CheckCollectorPipelineConfig
    )
    readiness: ReadinessConfig = field(default_factory=ReadinessConfig)

    def validate(self) -> None:
        if not self.path.startswith("/"):
            raise ValueError("'path' must start with /")
        if self.readiness.path == self.path:
            raise ValueError("'readiness::path' must differ from 'path'")
