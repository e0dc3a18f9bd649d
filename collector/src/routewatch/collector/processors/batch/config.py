"""`batch` settings, keys and defaults as the Go collector's batchprocessor."""

from __future__ import annotations

from dataclasses import dataclass

from routewatch.collector.confmap import Duration

DEFAULT_SEND_BATCH_SIZE = 8192
DEFAULT_TIMEOUT = Duration(0.2)
DEFAULT_SEND_BATCH_MAX_SIZE = 0


@dataclass
class BatchConfig:
    # Send once this many items (spans, metric points, log records) are buffered; a trigger,
    # not a bound (see send_batch_max_size). 0 leaves only the timeout as trigger.
    send_batch_size: int = DEFAULT_SEND_BATCH_SIZE
    # Send what is buffered after this long regardless of size; 0 sends every request at once.
    timeout: Duration = DEFAULT_TIMEOUT
    # Upper bound of one sent batch; 0 means no bound (a large request goes out whole).
    send_batch_max_size: int = DEFAULT_SEND_BATCH_MAX_SIZE

    def validate(self) -> None:
        if self.send_batch_size < 0:
            raise ValueError("send_batch_size must be greater or equal to 0")
        if self.send_batch_max_size < 0:
            raise ValueError("send_batch_max_size must be greater or equal to 0")
        if self.send_batch_max_size and self.send_batch_max_size < self.send_batch_size:
            raise ValueError("send_batch_max_size must be greater or equal to send_batch_size")
        if self.timeout < 0:
            raise ValueError("timeout must be greater or equal to 0")
