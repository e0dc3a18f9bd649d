"""Metrics in, alert log records out, through the connector on a fake clock."""

from alerting.engine_helpers import (
    T0,
    TRACE,
    FakeClock,
    Recorder,
    latency_batch,
    latency_config,
    started,
)


async def test_crossing_batch_fires_at_once_and_resolves_when_window_clears() -> None:
    clock, rec = FakeClock(), Recorder()
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
