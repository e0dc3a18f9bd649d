"""The `awsemf` exporter: OTLP metrics through the shared EMF core to CloudWatch Logs,
stdout or a file.

`push` encodes a request and hands its events to the sink: for CloudWatch a bounded buffer
that a timer flushes (and that is flushed when a batch is full and on shutdown). A full
buffer refuses the request with a retryable error, so the exporter helper's queue and retry
keep it; nothing is dropped silently. Encoding runs in a worker thread under a lock (the
delta state is shared).

Self-telemetry, labelled `exporter=<id>` and `reason=<cause>`:
- `otelcol_exporter_awsemf_dropped_points`: points not sent (nan, inf, out_of_range,
  out_of_order, invalid_metric_name, name_conflict, malformed_histogram, event_too_large);
- `otelcol_exporter_awsemf_sanitized_values`: values or dimensions changed to fit EMF
  (underflow, non_ascii_dimension_value, invalid_dimension, too_many_dimensions,
  reserved_attribute);
- `otelcol_exporter_awsemf_delta_series_evicted`: delta state evicted (ttl, max_series);
- `otelcol_exporter_awsemf_put_log_events_retries`, `..._rejected_log_events`
  (too_new, too_old, expired), `..._dropped_log_events` (permanent_error, event_too_large),
  `..._sent_log_events`.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

from routewatch.collector.component import (
    CreateSettings,
    Data,
    Encoded,
    Host,
    Signal,
    wire_bytes,
)
from routewatch.collector.errors import PermanentError, RetryableError
from routewatch.collector.exporterhelper import new_exporter
from routewatch.collector.exporters.awsemf.config import Config
from routewatch.exporters.cloudwatch_logs import (
    BufferFullError,
    LogBuffer,
    LogsClient,
    new_logs_client,
)
from routewatch.exporters.emf import DeltaTracker, Destinations, EmfEncoder, Stats
from routewatch.exporters.emf.otlp_reader import (
    STABLE_ATTRIBUTES,
    MalformedRequestError,
    read_otlp_metrics_bytes,
)
from routewatch.exporters.emf.sinks import CloudWatchLogsSink, EmfSink, LineSink

METRIC_PREFIX = "otelcol_exporter_awsemf_"


class AwsEmfExporter:
    def __init__(
        self,
        settings: CreateSettings,
        config: Config,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """`clock` (monotonic seconds) drives the delta TTL and the flush timer; `sleep` the
        backoff between PutLogEvents retries."""
        self._settings = settings
        self._clock = clock
        self._sleep = sleep
        self._config = config
        self._labels = settings.attributes
        self.stats = Stats(sink=self._count, logger=settings.logger)
        emf = config.emf_config()
        delta = DeltaTracker(
            self.stats,
            retain_initial=emf.retain_initial_value_of_delta_metric,
            ttl=float(config.delta_ttl),
            max_series=config.max_delta_series,
            clock=clock,
        )
        destinations = None
        if config.output_destination == "cloudwatch":
            destinations = Destinations(config.log_group_name, config.log_stream_name)
        self._encoder = EmfEncoder(emf, self.stats, delta, destinations)
        self._lock = threading.Lock()
        self._sink: EmfSink | None = None
        self.buffer: LogBuffer | None = None
        # Requests that came as bytes stay bytes: the reader parses them once, into its views.
        self.component = new_exporter(
            settings,
            config,
            Signal.METRICS,
            self._push,
            start=self._start,
            shutdown=self._stop,
            accepts_encoded=True,
        )

    def _count(self, counter: str, reason: str, n: int) -> None:
        labels = dict(self._labels)
        if reason:
            labels["reason"] = reason
        self._settings.telemetry.add(METRIC_PREFIX + counter, n, labels)

    def _new_sink(self) -> EmfSink:
        config = self._config
        if config.output_destination == "stdout":
            return LineSink()
        if config.output_destination == "file":
            return LineSink(path=config.file_path)
        client = LogsClient(
            new_logs_client(config.region, config.endpoint, emf=True),
            retention_days=config.log_retention,
            tags=config.tags,
            count=self._count,
            logger=self._settings.logger,
            sleep=self._sleep,
        )
        self.buffer = LogBuffer(
            client,
            max_buffered_bytes=config.max_buffered_bytes,
            flush_interval=float(config.flush_interval),
            clock=self._clock,
            count=self._count,
            logger=self._settings.logger,
        )
        self.buffer.start()
        return CloudWatchLogsSink(self.buffer)

    async def _start(self, host: Host) -> None:
        try:
            self._sink = await asyncio.to_thread(self._new_sink)
        except Exception as err:
            raise PermanentError(f"exporters::{self._settings.id}: {err}") from err

    async def _push(self, data: Data | Encoded) -> None:
        if self._sink is None:
            raise RetryableError(f"{self._settings.id}: not started")
        await asyncio.to_thread(self._export, data)

    def _export(self, data: Data | Encoded) -> None:
        with self._lock:
            sink = self._sink
            if sink is None:
                raise RetryableError(f"{self._settings.id}: shut down")
            batch = self._encoder.batch(stable_attributes=STABLE_ATTRIBUTES)
            try:
                # (the exporter helper has refused other signals)
                read_otlp_metrics_bytes(batch, wire_bytes(data))
            except MalformedRequestError as err:  # nothing was fed: no state to undo
                raise PermanentError(f"{self._settings.id}: {err}") from err
            try:
                sink.write(batch.events())
            except Exception as err:
                # Undo the delta state of this request: its retry must find it unchanged.
                self._encoder.delta.rollback()
                if isinstance(err, BufferFullError):
                    raise RetryableError(str(err), retry_after=err.retry_after) from err
                raise

    async def _stop(self) -> None:
        sink, self._sink = self._sink, None
        if sink is not None:
            await asyncio.to_thread(sink.shutdown)
