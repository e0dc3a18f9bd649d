"""The exporter helper: retry/backoff, permanent errors, throttling, queues, persistence."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from rw_testcomponents import Recorder, StubHost, settings, traces

from routewatch.collector.clock import FakeClock
from routewatch.collector.component import Kind, Signal
from routewatch.collector.errors import (
    PartialSuccessError,
    PermanentError,
    RetryableError,
    ThrottledError,
)
from routewatch.collector.exporterhelper import ExporterHelperConfig, new_exporter
from routewatch.collector.exporterhelper.config import QueueConfig, RetryConfig
from routewatch.collector.exporterhelper.exporter import Exporter
from routewatch.collector.extensions.file_storage.config import FileStorageConfig
from routewatch.collector.extensions.file_storage.file_storage import FileStorage
from routewatch.collector.telemetry import Telemetry

LABELS = {"exporter": "record"}


def _exporter(
    recorder: Recorder,
    clock: FakeClock | None = None,
    rand: float = 0.5,
    queue: QueueConfig | None = None,
    retry: RetryConfig | None = None,
    telemetry: Telemetry | None = None,
    shutdown_timeout: float = 10.0,
) -> Exporter:
    config = ExporterHelperConfig(
        retry_on_failure=retry or RetryConfig(),
        sending_queue=queue or QueueConfig(enabled=False),
    )
    return new_exporter(
        settings("record", Kind.EXPORTER, telemetry, shutdown_timeout=shutdown_timeout),
        config,
        Signal.TRACES,
        recorder.push,
        clock=clock or FakeClock(auto_advance=True),
        rand=lambda: rand,
    )


async def test_backoff_grows_by_multiplier_up_to_max_interval() -> None:
    recorder, clock = Recorder(), FakeClock(auto_advance=True)
    recorder.failures = [RetryableError("unavailable") for _ in range(7)]
    exporter = _exporter(recorder, clock)
    await exporter.start(StubHost())
    await exporter.consume(traces(3))
    assert clock.sleeps == pytest.approx([5, 7.5, 11.25, 16.875, 25.3125, 30, 30])
    assert recorder.items() == 3
    assert exporter.settings.telemetry.value("otelcol_exporter_sent_spans", LABELS) == 3
    await exporter.shutdown()


@pytest.mark.parametrize(("rand", "first"), [(0.0, 2.5), (1.0, 7.5), (0.25, 3.75)])
async def test_jitter_spreads_by_randomization_factor(rand: float, first: float) -> None:
    recorder, clock = Recorder(), FakeClock(auto_advance=True)
    recorder.failures = [RetryableError("x")]
    exporter = _exporter(recorder, clock, rand=rand)
    await exporter.start(StubHost())
    await exporter.consume(traces(1))
    assert clock.sleeps == pytest.approx([first])


async def test_retries_stop_at_max_elapsed_time() -> None:
    recorder, clock = Recorder(), FakeClock(auto_advance=True)
    recorder.failures = [RetryableError("down") for _ in range(100)]
    exporter = _exporter(recorder, clock, retry=RetryConfig(max_elapsed_time=20))
    await exporter.start(StubHost())
    with pytest.raises(RetryableError, match="down"):
        await exporter.consume(traces(4))
    # 5 + 7.5 = 12.5 s waited; the next 11.25 s would pass 20 s.
    assert clock.sleeps == pytest.approx([5, 7.5])
    assert recorder.calls == 3
    telemetry = exporter.settings.telemetry
    assert telemetry.value("otelcol_exporter_send_failed_spans", LABELS) == 4
    assert telemetry.value("otelcol_exporter_sent_spans", LABELS) == 0


async def test_permanent_error_is_not_retried() -> None:
    recorder, clock = Recorder(), FakeClock(auto_advance=True)
    recorder.failures = [PermanentError("bad request")]
    exporter = _exporter(recorder, clock)
    await exporter.start(StubHost())
    with pytest.raises(PermanentError):
        await exporter.consume(traces(2))
    assert (recorder.calls, clock.sleeps) == (1, [])
    assert exporter.settings.telemetry.value("otelcol_exporter_send_failed_spans", LABELS) == 2


async def test_throttle_delay_is_honoured() -> None:
    recorder, clock = Recorder(), FakeClock(auto_advance=True)
    recorder.failures = [ThrottledError("slow down", retry_after=42), RetryableError("x")]
    exporter = _exporter(recorder, clock)
    await exporter.start(StubHost())
    await exporter.consume(traces(1))
    # Throttle wins over the 5 s backoff; the next wait is the backoff's own 7.5 s.
    assert clock.sleeps == pytest.approx([42, 7.5])


async def test_retry_disabled_fails_at_once() -> None:
    recorder = Recorder()
    recorder.failures = [RetryableError("x")]
    exporter = _exporter(recorder, retry=RetryConfig(enabled=False))
    await exporter.start(StubHost())
    with pytest.raises(RetryableError):
        await exporter.consume(traces(1))
    assert recorder.calls == 1


async def test_timeout_is_retryable() -> None:
    recorder, clock = Recorder(), FakeClock(auto_advance=True)
    recorder.gate = asyncio.Event()  # never opens: every push hangs
    config = ExporterHelperConfig(
        timeout=0.01,  # type: ignore[arg-type]
        retry_on_failure=RetryConfig(enabled=False),
        sending_queue=QueueConfig(enabled=False),
    )
    exporter = new_exporter(
        settings("record", Kind.EXPORTER), config, Signal.TRACES, recorder.push, clock=clock
    )
    await exporter.start(StubHost())
    with pytest.raises(RetryableError, match=r"timed out after 0\.01s"):
        await exporter.consume(traces(1))


async def test_full_queue_refuses_with_retryable_error() -> None:
    recorder = Recorder()
    recorder.gate = asyncio.Event()
    exporter = _exporter(recorder, queue=QueueConfig(queue_size=2, num_consumers=1))
    await exporter.start(StubHost())
    telemetry = exporter.settings.telemetry
    queue_labels = {"exporter": "record", "data_type": "traces"}
    assert telemetry.value("otelcol_exporter_queue_capacity", queue_labels) == 2
    await exporter.consume(traces(1))
    await exporter.consume(traces(1))
    assert telemetry.value("otelcol_exporter_queue_size", queue_labels) == 2
    with pytest.raises(RetryableError, match="sending queue is full"):
        await exporter.consume(traces(5))
    assert telemetry.value("otelcol_exporter_enqueue_failed_spans", LABELS) == 5
    recorder.gate.set()
    await exporter.shutdown()
    assert recorder.items() == 2
    assert telemetry.value("otelcol_exporter_sent_spans", LABELS) == 2


async def test_block_on_overflow_waits_for_room() -> None:
    recorder = Recorder()
    recorder.gate = asyncio.Event()
    exporter = _exporter(
        recorder, queue=QueueConfig(queue_size=1, num_consumers=1, block_on_overflow=True)
    )
    await exporter.start(StubHost())
    await exporter.consume(traces(1))
    blocked = asyncio.create_task(exporter.consume(traces(2)))
    await asyncio.sleep(0.01)
    assert not blocked.done()
    recorder.gate.set()
    await blocked
    await exporter.shutdown()
    assert recorder.items() == 3


async def test_queued_send_failures_are_counted_and_dropped() -> None:
    recorder = Recorder()
    recorder.failures = [PermanentError("invalid")]
    exporter = _exporter(recorder, queue=QueueConfig(num_consumers=1))
    await exporter.start(StubHost())
    await exporter.consume(traces(3))  # accepted into the queue
    await exporter.consume(traces(1))
    await exporter.shutdown()
    telemetry = exporter.settings.telemetry
    assert telemetry.value("otelcol_exporter_send_failed_spans", LABELS) == 3
    assert telemetry.value("otelcol_exporter_sent_spans", LABELS) == 1


async def test_shutdown_interrupts_backoff_and_counts_memory_drops() -> None:
    recorder, clock = Recorder(), FakeClock()  # nobody advances it: backoff waits forever
    recorder.failures = [RetryableError("down") for _ in range(10)]
    exporter = _exporter(recorder, clock, queue=QueueConfig(num_consumers=1), shutdown_timeout=0.05)
    await exporter.start(StubHost())
    await exporter.consume(traces(2))
    await exporter.consume(traces(3))
    await clock.wait_for_sleepers(1)
    await exporter.shutdown()
    telemetry = exporter.settings.telemetry
    assert telemetry.value("otelcol_exporter_send_failed_spans", LABELS) == 5
    with pytest.raises(RetryableError, match="not running"):
        await exporter.consume(traces(1))


def _storage(directory: Path) -> FileStorage:
    return FileStorage(
        settings("file_storage", Kind.EXTENSION), FileStorageConfig(directory=str(directory))
    )


async def _persistent(directory: Path, recorder: Recorder, **kw: Any) -> tuple[Exporter, Any]:
    storage = _storage(directory)
    host = StubHost({"file_storage": storage})
    await storage.start(host)
    exporter = _exporter(recorder, queue=QueueConfig(num_consumers=1, storage="file_storage"), **kw)
    await exporter.start(host)
    return exporter, storage


async def test_persistent_queue_replays_after_restart(tmp_path: Path) -> None:
    down = Recorder()
    down.gate = asyncio.Event()  # downstream hangs: nothing is delivered
    exporter, storage = await _persistent(tmp_path, down, shutdown_timeout=0.05)
    for n in (1, 2, 3):
        await exporter.consume(traces(n, name=f"batch{n}"))
    await exporter.shutdown()
    await storage.shutdown()
    assert down.received == []

    up = Recorder()
    exporter, storage = await _persistent(tmp_path, up)
    await exporter.shutdown()  # drains the replayed queue
    names = [r.resource_spans[0].scope_spans[0].spans[0].name for r in up.received]
    assert names == ["batch1", "batch2", "batch3"]
    client = storage.client("record", "traces")
    assert client.keys() == []  # delivered items are deleted
    await storage.shutdown()


async def test_persistent_queue_deletes_permanently_failed_items(tmp_path: Path) -> None:
    recorder = Recorder()
    recorder.failures = [PermanentError("never")]
    exporter, storage = await _persistent(tmp_path, recorder)
    await exporter.consume(traces(1))
    await exporter.shutdown()
    assert storage.client("record", "traces").keys() == []
    await storage.shutdown()


async def test_missing_storage_extension_fails_start() -> None:
    exporter = _exporter(Recorder(), queue=QueueConfig(storage="file_storage/nope"))
    with pytest.raises(ValueError, match="'file_storage/nope' is not configured"):
        await exporter.start(StubHost())


async def test_shutdown_interrupts_an_inline_retry() -> None:
    recorder, clock = Recorder(), FakeClock()
    recorder.failures = [RetryableError("down") for _ in range(10)]
    exporter = _exporter(recorder, clock)  # no queue: retries run in the caller
    await exporter.start(StubHost())
    caller = asyncio.create_task(exporter.consume(traces(1)))
    await clock.wait_for_sleepers(1)
    await exporter.shutdown()
    with pytest.raises(RetryableError, match="interrupted due to shutdown"):
        await caller


async def test_drops_are_logged_once_per_cause(caplog: pytest.LogCaptureFixture) -> None:
    recorder = Recorder()
    recorder.failures = [PermanentError("bad"), PermanentError("bad"), PermanentError("worse")]
    exporter = _exporter(recorder)
    await exporter.start(StubHost())
    for _ in range(3):
        with pytest.raises(PermanentError):
            await exporter.consume(traces(1))
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 2
    assert "bad" in errors[0] and "worse" in errors[1]
    assert exporter.settings.telemetry.value("otelcol_exporter_send_failed_spans", LABELS) == 3


async def test_partial_success_is_not_retried_and_counted_per_item() -> None:
    recorder, clock = Recorder(), FakeClock(auto_advance=True)
    recorder.failures = [PartialSuccessError(2, "2 spans too old")]
    exporter = _exporter(recorder, clock)
    await exporter.start(StubHost())
    with pytest.raises(PartialSuccessError) as info:
        await exporter.consume(traces(5))
    assert info.value.rejected == 2
    assert (recorder.calls, clock.sleeps) == (1, [])
    telemetry = exporter.settings.telemetry
    assert telemetry.value("otelcol_exporter_sent_spans", LABELS) == 3
    assert telemetry.value("otelcol_exporter_send_failed_spans", LABELS) == 2
