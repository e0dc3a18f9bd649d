"""Self-telemetry helpers shared by every component, after the Go collector's obsreport.

Receivers call `receiver_result(...)` once per request; the exporter helper and the batch
processor use the names defined here. Item counts are taken per resource and scope (and per
metric for data points), never per span or log record.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from routewatch.collector.component import ComponentID, Data, Signal
from routewatch.collector.errors import PermanentError
from routewatch.collector.telemetry import Telemetry

# The Go collector's per-signal item names in metric names.
ITEM_NAME: Mapping[Signal, str] = {
    Signal.TRACES: "spans",
    Signal.METRICS: "metric_points",
    Signal.LOGS: "log_records",
}


def signal_of(data: Data) -> Signal:
    """The signal of an OTLP export request."""
    if hasattr(data, "resource_spans"):
        return Signal.TRACES
    if hasattr(data, "resource_metrics"):
        return Signal.METRICS
    return Signal.LOGS


def count_items(signal: Signal, data: Data) -> int:
    """Spans, metric data points or log records in one request."""
    if signal is Signal.TRACES:
        return sum(len(ss.spans) for rs in data.resource_spans for ss in rs.scope_spans)
    if signal is Signal.LOGS:
        return sum(len(sl.log_records) for rl in data.resource_logs for sl in rl.scope_logs)
    total = 0
    # Plain loops: this runs per metric, the one place where counting is not per scope.
    for rm in data.resource_metrics:
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                kind = metric.WhichOneof("data")
                if kind is not None:
                    total += len(getattr(metric, kind).data_points)
    return total


def receiver_result(
    telemetry: Telemetry,
    id: ComponentID | str,
    transport: str,
    signal: Signal,
    count: int,
    err: BaseException | None = None,
) -> None:
    """Count one received request: accepted when `err` is None, refused otherwise.

    `transport` is `grpc` or `http` (label `transport`, as in the Go collector). Like Go, a
    refusal for any reason (permanent or retryable) counts as refused.
    """
    labels = {"receiver": str(id), "transport": transport}
    outcome = "accepted" if err is None else "refused"
    telemetry.add(f"otelcol_receiver_{outcome}_{ITEM_NAME[signal]}", count, labels)


def exporter_metric(what: str, signal: Signal) -> str:
    """`otelcol_exporter_{what}_{spans|metric_points|log_records}`."""
    return f"otelcol_exporter_{what}_{ITEM_NAME[signal]}"


class DropLog:
    """Logs dropped data once per cause (repeats go to debug), remembering a bounded number
    of causes so that a flood of distinct errors cannot grow memory."""

    def __init__(self, logger: logging.Logger, limit: int = 256) -> None:
        self._logger = logger
        self._limit = limit
        self._seen: set[str] = set()

    def dropped(self, cause: str, message: str, *args: object) -> None:
        key = cause[:160]
        if key in self._seen:
            self._logger.debug(message, *args)
            return
        if len(self._seen) < self._limit:
            self._seen.add(key)
        self._logger.error(message + " (further drops of this cause are logged at debug)", *args)


def is_refusal_retryable(err: BaseException) -> bool:
    """What a receiver should answer: retryable (503/429, UNAVAILABLE) unless permanent."""
    return not isinstance(err, PermanentError)
