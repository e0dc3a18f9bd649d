"""exporterhelper settings with the Go collector's keys and defaults.

An exporter's config dataclass inherits `ExporterHelperConfig`, so `timeout`,
`retry_on_failure` and `sending_queue` sit at its top level as they do in otelcol configs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from routewatch.collector.confmap import Duration

DEFAULT_TIMEOUT = Duration(5.0)
DEFAULT_INITIAL_INTERVAL = Duration(5.0)
DEFAULT_MAX_INTERVAL = Duration(30.0)
DEFAULT_MAX_ELAPSED_TIME = Duration(300.0)
DEFAULT_MULTIPLIER = 1.5
DEFAULT_RANDOMIZATION_FACTOR = 0.5
DEFAULT_QUEUE_SIZE = 1000
DEFAULT_NUM_CONSUMERS = 10


@dataclass
class RetryConfig:
    enabled: bool = True
    initial_interval: Duration = DEFAULT_INITIAL_INTERVAL
    randomization_factor: float = DEFAULT_RANDOMIZATION_FACTOR
    multiplier: float = DEFAULT_MULTIPLIER
    max_interval: Duration = DEFAULT_MAX_INTERVAL
    # 0 means retry forever.
    max_elapsed_time: Duration = DEFAULT_MAX_ELAPSED_TIME

    def validate(self) -> None:
        if not self.enabled:
            return
        if self.initial_interval < 0:
            raise ValueError("'initial_interval' must be non-negative")
        if not 0 <= self.randomization_factor <= 1:
            raise ValueError("'randomization_factor' must be within [0, 1]")
        if self.multiplier <= 0:
            raise ValueError("'multiplier' must be positive")
        if self.max_interval < 0:
            raise ValueError("'max_interval' must be non-negative")
        if self.max_elapsed_time < 0:
            raise ValueError("'max_elapsed_time' must be non-negative")


@dataclass
class QueueConfig:
    enabled: bool = True
    num_consumers: int = DEFAULT_NUM_CONSUMERS
    # Capacity in requests.
    queue_size: int = DEFAULT_QUEUE_SIZE
    # When full: block the caller (true) or refuse with a retryable error (false).
    block_on_overflow: bool = False
    # ID of a `file_storage` extension; empty means an in-memory queue.
    storage: str | None = None

    def validate(self) -> None:
        if not self.enabled:
            return
        if self.num_consumers <= 0:
            raise ValueError("'num_consumers' must be positive")
        if self.queue_size <= 0:
            raise ValueError("'queue_size' must be positive")


@dataclass
class ExporterHelperConfig:
    # 0 means no timeout.
    timeout: Duration = DEFAULT_TIMEOUT
    retry_on_failure: RetryConfig = field(default_factory=RetryConfig)
    sending_queue: QueueConfig = field(default_factory=QueueConfig)

    def validate(self) -> None:
        if self.timeout < 0:
            raise ValueError("'timeout' must be non-negative")
