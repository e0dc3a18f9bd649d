"""`CloudWatchEMFMetricExporter`: the EMF core as an OpenTelemetry SDK MetricExporter.

For in-process use, Lambda included: with `output="stdout"` (the default) each event is one
JSON line on stdout, which Lambda's and CloudWatch agent's EMF support pick up; with
`output="cloudwatch"` events go through a bounded buffer to PutLogEvents, flushed on a timer,
on `force_flush` and on `shutdown`.

It prefers delta temporality for counters and histograms (CloudWatch adds values up), and
converts cumulative data itself when a reader is configured otherwise. Up-down counters stay
cumulative: they are levels and go out as gauges. What is sanitised, dropped or evicted is
counted in `exporter.stats` and logged once per cause.

    reader = PeriodicExportingMetricReader(CloudWatchEMFMetricExporter("HybridRouting"))
    MeterProvider(metric_readers=[reader])
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import IO, Any

from opentelemetry.sdk.metrics import (
    Counter,
    Histogram,
    ObservableCounter,
    ObservableGauge,
    ObservableUpDownCounter,
    UpDownCounter,
)
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    MetricExporter,
    MetricExportResult,
    MetricsData,
)
from opentelemetry.sdk.metrics.view import Aggregation

from routewatch.exporters.cloudwatch_logs import (
    BufferFullError,
    DeliveryError,
    LogBuffer,
    LogsClient,
    new_logs_client,
)
from routewatch.exporters.cloudwatch_logs.buffer import DEFAULT_MAX_BUFFERED_BYTES
from routewatch.exporters.emf.config import EmfConfig
from routewatch.exporters.emf.delta import DEFAULT_MAX_SERIES, DEFAULT_TTL_SECONDS, DeltaTracker
from routewatch.exporters.emf.destination import Destinations
from routewatch.exporters.emf.encode import EmfEncoder, valid_namespace
from routewatch.exporters.emf.sdk_reader import STABLE_ATTRIBUTES, read_sdk_metrics
from routewatch.exporters.emf.sinks import CloudWatchLogsSink, EmfSink, LineSink
from routewatch.exporters.emf.stats import Stats

_LOGGER = logging.getLogger("routewatch.exporters.emf")

DELTA_TEMPORALITY: dict[type, AggregationTemporality] = {
    Counter: AggregationTemporality.DELTA,
    Histogram: AggregationTemporality.DELTA,
    ObservableCounter: AggregationTemporality.DELTA,
    UpDownCounter: AggregationTemporality.CUMULATIVE,
    ObservableUpDownCounter: AggregationTemporality.CUMULATIVE,
    ObservableGauge: AggregationTemporality.CUMULATIVE,
}


class CloudWatchEMFMetricExporter(MetricExporter):
    def __init__(
        self,
        namespace: str = "default",
        *,
        output: str = "stdout",
        log_group_name: str = "/metrics/default",
        log_stream_name: str = "",
        region: str | None = None,
        endpoint: str | None = None,
        log_retention: int = 0,
        tags: dict[str, str] | None = None,
        config: EmfConfig | None = None,
        stream: IO[str] | None = None,
        file_path: str | None = None,
        sink: EmfSink | None = None,
        logs_client: Any = None,
        flush_interval: float = 5.0,
        max_buffered_bytes: int = DEFAULT_MAX_BUFFERED_BYTES,
        delta_ttl: float = DEFAULT_TTL_SECONDS,
        max_delta_series: int = DEFAULT_MAX_SERIES,
        clock: Callable[[], float] = time.monotonic,
        preferred_temporality: dict[type, AggregationTemporality] | None = None,
        preferred_aggregation: dict[type, Aggregation] | None = None,
    ) -> None:
        super().__init__(
            preferred_temporality=preferred_temporality or dict(DELTA_TEMPORALITY),
            preferred_aggregation=preferred_aggregation,
        )
        config = config or EmfConfig(namespace=namespace)
        if config.namespace and not valid_namespace(config.namespace):
            raise ValueError(f"namespace {config.namespace!r} is not a valid CloudWatch namespace")
        self.stats = Stats()
        destinations = None
        if sink is None:
            if output == "stdout":
                sink = LineSink(stream=stream)
            elif output == "file":
                if not file_path:
                    raise ValueError("output 'file' needs file_path")
                sink = LineSink(path=file_path)
            elif output == "cloudwatch":
                client = LogsClient(
                    logs_client or new_logs_client(region, endpoint, emf=True),
                    retention_days=log_retention,
                    tags=tags or {},
                    count=self.stats.count,
                )
                buffer = LogBuffer(
                    client,
                    max_buffered_bytes=max_buffered_bytes,
                    flush_interval=flush_interval,
                    clock=clock,
                    count=self.stats.count,
                )
                buffer.start()
                sink = CloudWatchLogsSink(buffer)
            else:
                raise ValueError(f"output must be stdout, file or cloudwatch, not {output!r}")
        if isinstance(sink, CloudWatchLogsSink):
            destinations = Destinations(
                log_group_name, log_stream_name or f"otel-python-{uuid.uuid4().hex[:12]}"
            )
        self._sink = sink
        delta = DeltaTracker(
            self.stats,
            retain_initial=config.retain_initial_value_of_delta_metric,
            ttl=delta_ttl,
            max_series=max_delta_series,
            clock=clock,
        )
        self._encoder = EmfEncoder(config, self.stats, delta, destinations)
        self._shutdown = False
        # The delta state and caches are not thread-safe; readers may share an exporter.
        self._lock = threading.Lock()

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        if self._shutdown:
            return MetricExportResult.FAILURE
        try:
            with self._lock:
                batch = self._encoder.batch(stable_attributes=STABLE_ATTRIBUTES)
                read_sdk_metrics(batch, metrics_data)
                try:
                    self._sink.write(batch.events())
                except Exception:
                    # Cumulative series: the next export then carries this one's change.
                    self._encoder.delta.rollback()
                    raise
        except BufferFullError as err:
            _LOGGER.warning("EMF export refused: %s", err)
            return MetricExportResult.FAILURE
        except Exception:  # telemetry never breaks the app
            _LOGGER.exception("EMF export failed")
            return MetricExportResult.FAILURE
        return MetricExportResult.SUCCESS

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        try:
            self._sink.flush()
        except DeliveryError as err:
            _LOGGER.warning("EMF flush failed: %s", err)
            return False
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        if self._shutdown:
            return
        self._shutdown = True
        try:
            self._sink.shutdown()
        except Exception:
            _LOGGER.exception("EMF exporter shutdown: flush failed")
