"""Metrics in, alert log records out, through the connector on a fake clock."""

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from alerting.engine_helpers import (
    T0,
    TRACE,
    Harness,
    Host,
    Recorder,
    engine_clock,
    gauge_batch,
    gauge_config,
    latency_batch,
    latency_config,
    settings,
    started,
)

from routewatch.collector.alerting.otlp_build import PointSpec, metrics_request
from routewatch.collector.connectors.routewatch_alerts.connector import (
    INGEST_SLICE,
    AlertsConnector,
)
from routewatch.collector.storage import SQLiteStorageClient


async def test_crossing_batch_fires_at_once_and_resolves_when_window_clears() -> None:
    clock, rec = engine_clock(), Recorder()
    conn = await started(latency_config(), clock, rec)
    await conn.consume(latency_batch(T0, [16.0] * 20, exemplars=[(16.0, TRACE)]))
    (alert,) = rec.take()
    assert alert.status == "firing" and alert.severity == "critical"
    assert alert.labels == {"alertname": "RouteLatencyHigh", "hybrid_routing.route": "direct"}
    assert alert.exemplar_trace_ids == (TRACE,)
    assert alert.annotations["summary"].startswith("p95 of direct is")
    clock.advance(301)
    await conn.run_once()
    (resolved,) = rec.take()
    assert resolved.status == "resolved"
    assert resolved.fingerprint == alert.fingerprint
    assert resolved.notification_id != alert.notification_id
    await conn.shutdown()


async def test_evaluation_loop_ticks_on_its_own() -> None:
    clock, rec = engine_clock(), Recorder()
    cfg = latency_config(evaluation_interval="1s")
    conn = AlertsConnector(settings(), cfg, rec, clock=clock)
    await conn.start(Host())  # with the loop
    await conn.consume(latency_batch(T0, [16.0] * 20))
    assert [a.status for a in rec.take()] == ["firing"]
    clock.advance(301)
    conn.wake()
    for _ in range(200):  # yield to the loop task; no timer is awaited
        if rec.requests:
            break
        await asyncio.sleep(0)
    assert [a.status for a in rec.take()] == ["resolved"]
    await conn.shutdown()
    assert conn._task is None


async def test_notifications_are_counted_by_reason() -> None:
    clock, rec = engine_clock(), Recorder()
    conn = await started(latency_config(), clock, rec)
    await conn.consume(latency_batch(T0, [16.0] * 20))
    clock.advance(301)
    await conn.run_once()
    t = conn.settings.telemetry
    labels = {"connector": "routewatch_alerts"}
    assert t.value("routewatch_alerts_notifications", {**labels, "reason": "new_alert"}) == 1
    assert t.value("routewatch_alerts_notifications", {**labels, "reason": "resolved"}) == 1
    await conn.shutdown()


async def test_two_collectors_with_the_same_data_agree_on_identity() -> None:
    fingerprints = []
    for _ in range(2):
        clock, rec = engine_clock(), Recorder()
        conn = await started(latency_config(), clock, rec)
        await conn.consume(latency_batch(T0, [16.0] * 20))
        (alert,) = rec.take()
        fingerprints.append(alert.fingerprint)
        await conn.shutdown()
    assert fingerprints[0] == fingerprints[1]
    assert len(fingerprints[0]) == 16 and int(fingerprints[0], 16) >= 0


async def test_expired_log_entries_are_collected_from_storage(tmp_path: Path) -> None:
    h = await Harness(gauge_config(send_resolved=False), tmp_path / "s.db").start()
    await h.at(0, 120)
    storage = SQLiteStorageClient(tmp_path / "s.db", "routewatch_alerts/alerts")
    assert storage.keys("nflog/")  # the trigger is logged
    await h.at(10, 1)  # resolved without a notification: the entry goes
    assert storage.keys("nflog/") == [] and storage.keys("alert/") == []
    assert len(storage.keys("emitted/")) == 1
    storage.close()
    await h.stop()


async def test_storage_failure_is_retried_and_never_refuses_data(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    h = await Harness(gauge_config(), db).start()
    (fired,) = await h.at(0, 60)
    # A real SQLite fault: the connector's table disappears under it.
    other = sqlite3.connect(db)
    other.execute('DROP TABLE "routewatch_alerts/alerts"')
    other.commit()
    (critical,) = await h.at(10, 150)  # emitted; persisting it fails; consume does not raise
    assert critical.severity == "critical"
    assert h.conn is not None
    t = h.conn.settings.telemetry
    assert t.total("routewatch_alerts_persist_failed") >= 1
    other.execute(
        'CREATE TABLE "routewatch_alerts/alerts" (key TEXT PRIMARY KEY, value BLOB NOT NULL)'
    )
    other.commit()
    other.close()
    assert await h.at(20, 150) == []  # this tick writes what the failed ones could not
    await h.restart()
    assert await h.at(30, 150) == []  # the level change is known: no second page
    (resolved,) = await h.at(40, 1)
    assert resolved.status == "resolved" and resolved.fingerprint == fired.fingerprint
    await h.stop()


async def test_batches_save_transitions_at_once_and_numbers_on_the_tick(tmp_path: Path) -> None:
    h = await Harness(gauge_config(), tmp_path / "s.db").start()
    (fired,) = await h.at(0, 120)
    storage = SQLiteStorageClient(tmp_path / "s.db", "routewatch_alerts/alerts")

    def saved() -> tuple[str, float]:
        raw = storage.get(f"alert/{fired.fingerprint}")
        assert raw is not None
        doc = json.loads(raw)
        return doc["severity"], doc["value"]

    assert h.conn is not None
    await h.conn.consume(gauge_batch(h.clock.now + 1, 130))  # same severity: not saved yet
    assert saved() == ("critical", 120)
    await h.conn.consume(gauge_batch(h.clock.now + 2, 60))  # level change: saved with the batch
    assert saved() == ("warning", 60)
    await h.conn.consume(gauge_batch(h.clock.now + 3, 70))
    h.clock.advance(5)
    await h.conn.run_once()  # the tick saves the moved numbers
    assert saved() == ("warning", 70)
    storage.close()
    await h.stop()


async def test_damaged_saved_entries_are_skipped_not_fatal(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    h = await Harness(gauge_config(), tmp_path / "s.db").start()
    (fired,) = await h.at(0, 120)
    await h.stop()
    storage = SQLiteStorageClient(tmp_path / "s.db", "routewatch_alerts/alerts")
    storage.batch(
        [
            ("alert/0000000000000000", b"{not json"),
            ("silence/broken", b'{"id": "x"}'),
            ("nflog/routewatch_alerts/{}", b"[]"),
        ]
    )
    storage.close()
    await h.start()
    assert "skipped 3 damaged saved entries" in caplog.text
    (resolved,) = await h.at(10, 1)  # the good entries came back: the resolve goes out
    assert resolved.fingerprint == fired.fingerprint and resolved.status == "resolved"
    await h.stop()


def many_gauges(t: float, queues: int, deep: str = "") -> Any:
    """One export of `queues` gauge points (queue q0, q1, ...); `deep` is 500 deep."""
    points = [PointSpec({"queue": f"q{i}"}, t, value=1.0) for i in range(queues)]
    if deep:
        points.append(PointSpec({"queue": deep}, t, value=500.0))
    return metrics_request("queue.depth", "gauge", points)


async def test_a_big_export_is_ingested_in_slices_and_every_slice_is_evaluated() -> None:
    clock, rec = engine_clock(), Recorder()
    conn = await started(gauge_config(), clock, rec)
    size = INGEST_SLICE * 2 + 10
    await conn.consume(many_gauges(T0, size, deep="last"))  # the crossing is in the last slice
    (alert,) = rec.take()
    assert (alert.labels["queue"], alert.severity) == ("last", "critical")
    assert conn.engine is not None and conn.engine.series_count() == size + 1
    await conn.shutdown()


async def test_a_small_export_is_not_held_behind_a_big_one() -> None:
    clock, rec = engine_clock(), Recorder()
    conn = await started(gauge_config(), clock, rec)
    big = asyncio.create_task(conn.consume(many_gauges(T0, INGEST_SLICE * 5)))
    await asyncio.sleep(0)  # the big export has taken its first slice
    done_when_alerted: list[bool] = []

    class Watch(Recorder):
        async def consume(self, data: Any) -> None:
            done_when_alerted.append(big.done())
            await super().consume(data)

    conn.emit.next_consumer = watch = Watch()
    await conn.consume(gauge_batch(T0, 500.0, "urgent"))
    await big
    assert done_when_alerted == [False]  # paged while the big export was still ingesting
    assert [a.labels["queue"] for a in watch.take()] == ["urgent"]
    await conn.shutdown()
