"""CloudWatch Logs: PutLogEvents batching, delivery with retries, and a bounded buffer.

Shared by the EMF exporter and the logs exporter.
"""

from routewatch.exporters.cloudwatch_logs.batch import (
    EVENT_OVERHEAD,
    MAX_BATCH_BYTES,
    MAX_BATCH_EVENTS,
    MAX_BATCH_SPAN_MS,
    MAX_EVENT_BYTES,
    LogEvent,
    plan_batches,
)
from routewatch.exporters.cloudwatch_logs.buffer import BufferFullError, LogBuffer
from routewatch.exporters.cloudwatch_logs.client import (
    DeliveryError,
    LogsClient,
    RetryPolicy,
    new_logs_client,
)

__all__ = [
    "EVENT_OVERHEAD",
    "MAX_BATCH_BYTES",
    "MAX_BATCH_EVENTS",
    "MAX_BATCH_SPAN_MS",
    "MAX_EVENT_BYTES",
    "BufferFullError",
    "DeliveryError",
    "LogBuffer",
    "LogEvent",
    "LogsClient",
    "RetryPolicy",
    "new_logs_client",
    "plan_batches",
]
