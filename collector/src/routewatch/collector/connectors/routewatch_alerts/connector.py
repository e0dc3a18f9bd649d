"""The `routewatch_alerts` connector: evaluates alert rules on the metrics it consumes and
emits one `routewatch.alert` log record per alert per notification to its logs pipeline.

Rules touched by an incoming batch are evaluated at once (so a crossing can page well under a
second later with `for: 0` and `group_wait: 0`); all rules are evaluated every
`evaluation_interval`, and group timers wake the loop when they run out. The engine decides;
the emit stage (`emit.py`) is the only place that sends, and the notification log is written
only after the next consumer accepted the records.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from itertools import islice
from pathlib import Path

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)

from routewatch.collector.alerting.api import AlertsApi
from routewatch.collector.alerting.clock import Clock, Tick, system_clock
from routewatch.collector.alerting.engine import Engine, EngineSettings, Notification, Touched
from routewatch.collector.alerting.rules import RuleSet, build_rule_set
from routewatch.collector.alerting.windows import RuleWindows
from routewatch.collector.component import ComponentID, Consumer, CreateSettings, Data, Host
from routewatch.collector.connectors.routewatch_alerts.config import Config
from routewatch.collector.connectors.routewatch_alerts.emit import EmitStage
from routewatch.collector.errors import ConfigError, PermanentError, RetryableError
from routewatch.collector.storage import StorageClient

SERIES_METRIC = "routewatch_alerts_series"
EVICTED_METRIC = "routewatch_alerts_series_evicted"
DROPPED_METRIC = "routewatch_alerts_points_dropped"
TICK_FAILED_METRIC = "routewatch_alerts_tick_failed"
PERSIST_FAILED_METRIC = "routewatch_alerts_persist_failed"
EVALUATION_METRIC = "routewatch_alerts_evaluation_duration_seconds"
# Observations ingested (and their series evaluated) per hold of the event loop: about 5 ms.
INGEST_SLICE = 1000
FIRST_SLICE = 100
INGEST_PAUSE = 0.001  # seconds between slices


class AlertsConnector:
    def __init__(
        self,
        settings: CreateSettings,
        config: Config,
        next_consumer: Consumer,
        clock: Clock = system_clock,
        base_dirs: tuple[Path, ...] = (),
    ) -> None:
        self.settings = settings
        self.config = config
        self.next_consumer = next_consumer
        self.emit = EmitStage(settings, next_consumer)
        self.clock = clock
        # Rules are decoded here, not at config decode, so errors carry the component path.
        self.rule_set: RuleSet = build_rule_set(
            config.rules,
            config.rule_files,
            config.inhibit_rules,
            f"connectors::{settings.id}",
            base_dirs,
        )
        self.engine: Engine | None = None
        self.api: AlertsApi | None = None
        self._storage: StorageClient | None = None
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._next_eval = 0.0

    def _engine_settings(self) -> EngineSettings:
        c = self.config
        return EngineSettings(
            rules=self.rule_set,
            receiver=str(self.settings.id),
            group_by=tuple(c.group_by),
            group_wait=c.group_wait,
            group_interval=c.group_interval,
            repeat_interval=c.repeat_interval,
            send_resolved=c.send_resolved,
            silences=tuple(c.silences),
            trace_url_template=c.trace_url_template,
            runbook_base_url=c.runbook_base_url,
            max_series=c.max_series,
        )

    async def start(self, host: Host, run_loop: bool = True) -> None:
        """Open storage, restore state, start the API and the evaluation loop.

        `run_loop=False` leaves ticking to the caller (`run_once`), for tests on a fake clock.
        """
        try:
            if self.config.storage:
                ext = host.get_extension(ComponentID.parse(self.config.storage))
                if ext is None or not hasattr(ext, "client"):
                    raise ConfigError(
                        f"connectors::{self.settings.id}::storage: extension "
                        f"{self.config.storage!r} not found or not a storage extension"
                    )
                self._storage = ext.client(str(self.settings.id), "alerts")
            self.engine = Engine(self._engine_settings(), self._storage, self.clock())
            if self.engine.damaged:
                self.settings.logger.warning(
                    "%s: skipped %d damaged saved entries (e.g. %s)",
                    self.settings.id,
                    len(self.engine.damaged),
                    self.engine.damaged[0],
                )
            self._register_telemetry(self.engine)
            if self.config.endpoint:
                self.api = AlertsApi(lambda: self.engine, self.clock, self._lock)
                try:
                    await self.api.start(self.config.endpoint)
                except OSError as err:
                    raise ConfigError(
                        f"connectors::{self.settings.id}::endpoint: cannot listen on "
                        f"{self.config.endpoint}: {err.strerror or err}"
                    ) from err
            if run_loop:
                self._task = asyncio.create_task(self._loop(), name=f"{self.settings.id} eval")
        except BaseException:
            await self.shutdown()
            raise

    def _register_telemetry(self, engine: Engine) -> None:
        t, attrs = self.settings.telemetry, self.settings.attributes
        t.describe(SERIES_METRIC, "Series held in alert rule windows")
        t.gauge_func(SERIES_METRIC, lambda: float(engine.series_count()), attrs)
        t.describe(EVICTED_METRIC, "Series evicted from a rule's windows at max_series")
        for name, rw in engine.windows.items():
            t.gauge_func(EVICTED_METRIC, _evictions(rw), {**attrs, "rule": name})
        t.describe(DROPPED_METRIC, "Points dropped: invalid, or beyond a series' point cap")
        t.gauge_func(DROPPED_METRIC, lambda: float(engine.dropped_points()), attrs)

    async def consume(self, data: Data) -> None:
        if not isinstance(data, ExportMetricsServiceRequest):
            raise PermanentError(f"{self.settings.id}: expects metrics, got {type(data).__name__}")
        engine = self.engine
        if engine is None:
            raise RetryableError(f"{self.settings.id}: not started")
        observations = engine.observations(data)
        touched_any = False
        # The first slice is small: it runs in the same step of the event loop as the
        # receiver's parsing of the whole export, and a small export fits in it whole.
        size = FIRST_SLICE
        while True:
            # A slice at a time, letting go of the loop and the lock in between: a big export
            # (10,000s of points) must not hold up a small one that crosses a threshold, nor
            # the evaluation timer. Each slice is evaluated as it lands.
            async with self._lock:
                tick = Tick(self.clock())
                touched: Touched = {}
                taken = engine.ingest_observations(islice(observations, size), tick, touched)
                done, size = taken < size, INGEST_SLICE
                if touched:
                    touched_any = True
                    self._after_ingest(engine, tick, touched)
                if done and touched_any:
                    await self._flush(engine, tick)
            if done:
                break
            # A pause, not sleep(0): that would give other work one turn of the loop per
            # slice, and an alert's way out (logs pipeline, exporter queue, HTTP request)
            # takes several.
            await asyncio.sleep(INGEST_PAUSE)
        if touched_any:
            self.wake()  # a new group may flush before the loop's planned wake-up

    def _after_ingest(self, engine: Engine, tick: Tick, touched: Touched) -> None:
        # The data is in the windows now: raising would make the sender retry it and count
        # it twice. Whatever fails here is logged and retried by the next tick.
        try:
            engine.evaluate(tick, touched)
        except Exception:
            self._batch_failed()

    async def _flush(self, engine: Engine, tick: Tick) -> None:
        try:
            await self._emit(engine, engine.flush(tick), tick)
            self._persist(engine, refreshed=False)
        except Exception:
            self._batch_failed()

    def _batch_failed(self) -> None:
        """Counted and logged (with the exception being handled), not raised."""
        self.settings.telemetry.add(TICK_FAILED_METRIC, 1, self.settings.attributes)
        self.settings.logger.exception("%s: evaluation after a batch failed", self.settings.id)

    async def run_once(self) -> float:
        """One tick: evaluate all rules when due, flush due groups, collect garbage, persist.

        Returns when the next tick is due (clock time)."""
        engine = self.engine
        if engine is None:
            raise RuntimeError("not started")
        async with self._lock:
            tick = Tick(self.clock())
            if tick.now >= self._next_eval:
                started = time.perf_counter()  # self-telemetry only, not a decision
                engine.evaluate(tick)
                self.settings.telemetry.set(
                    EVALUATION_METRIC, time.perf_counter() - started, self.settings.attributes
                )
                self._next_eval = tick.now + self.config.evaluation_interval
            await self._emit(engine, engine.flush(tick), tick)
            engine.gc(tick)
            self._persist(engine)
            flush = engine.next_flush()
        return min(self._next_eval, flush) if flush is not None else self._next_eval

    def _persist(self, engine: Engine, refreshed: bool = True) -> None:
        """Snapshot to storage; a failure keeps the changes pending for the next tick. After a
        batch only transitions are saved; the tick also saves alerts whose numbers moved."""
        try:
            engine.persist(refreshed)
        except Exception as err:
            self.settings.telemetry.add(PERSIST_FAILED_METRIC, 1, self.settings.attributes)
            self.settings.logger.error(
                "%s: saving alert state to %s failed, will retry: %s",
                self.settings.id,
                self.config.storage,
                err,
            )

    async def _emit(self, engine: Engine, notifications: list[Notification], tick: Tick) -> None:
        if await self.emit.exec(notifications, tick):
            engine.commit(notifications, tick)

    def wake(self) -> None:
        """Make the loop re-plan its next tick now (the clock moved, or a timer changed)."""
        self._wake.set()

    async def _loop(self) -> None:
        while True:
            self._wake.clear()  # before the tick: a batch arriving during it wakes us again
            try:
                due = await self.run_once()
            except Exception:
                self.settings.telemetry.add(TICK_FAILED_METRIC, 1, self.settings.attributes)
                self.settings.logger.exception("%s: evaluation failed", self.settings.id)
                due = self.clock() + self.config.evaluation_interval
            delay = max(0.0, due - self.clock())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)

    async def shutdown(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        api, self.api = self.api, None
        if api is not None:
            await api.stop()
        if self.engine is not None:
            async with self._lock:
                self._persist(self.engine)
        storage, self._storage = self._storage, None
        if storage is not None:
            storage.close()


def _evictions(rw: RuleWindows) -> Callable[[], float]:
    return lambda: float(rw.evictions)
