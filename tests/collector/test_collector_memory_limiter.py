"""memory_limiter: refuses with a retryable error above the soft limit, on real RSS."""

from __future__ import annotations

import pytest
from rw_testcomponents import StubHost, settings, traces

from routewatch.collector.clock import FakeClock
from routewatch.collector.component import Data, Kind
from routewatch.collector.errors import RetryableError
from routewatch.collector.processors.memory_limiter.config import MemoryLimiterConfig
from routewatch.collector.processors.memory_limiter.memory_limiter import (
    MemoryLimiter,
    process_rss,
)

MIB = 1024 * 1024


class Sink:
    def __init__(self) -> None:
        self.received: list[Data] = []

    async def consume(self, data: Data) -> None:
        self.received.append(data)


class QueueHost(StubHost):
    def __init__(self) -> None:
        super().__init__()
        self.bytes = 0

    def queued_bytes(self) -> int:
        return self.bytes


def test_spike_defaults_to_a_fifth_of_the_limit() -> None:
    hard, soft = MemoryLimiterConfig(limit_mib=100).limits_bytes(0)
    assert (hard, soft) == (100 * MIB, 80 * MIB)
    hard, soft = MemoryLimiterConfig(limit_percentage=50, spike_limit_percentage=10).limits_bytes(
        1000 * MIB
    )
    assert (hard, soft) == (500 * MIB, 400 * MIB)


async def test_refuses_above_the_soft_limit_of_real_rss() -> None:
    # The test process itself uses far more than 8 MiB (the soft limit of a 10 MiB limit).
    assert process_rss() > 10 * MIB
    sink = Sink()
    limiter = MemoryLimiter(
        settings("memory_limiter", Kind.PROCESSOR),
        MemoryLimiterConfig(limit_mib=10),
        sink,
        FakeClock(),
    )
    await limiter.start(StubHost())
    with pytest.raises(RetryableError, match="high memory usage"):
        await limiter.consume(traces(3))
    assert sink.received == []
    labels = {"processor": "memory_limiter"}
    assert limiter._settings.telemetry.value("otelcol_processor_refused_spans", labels) == 3
    await limiter.shutdown()


async def test_queued_bytes_count_and_recovery_follows_the_check_interval() -> None:
    rss = process_rss()
    limit_mib = rss // MIB + 100  # soft limit 80 MiB above RSS... minus the 20 % spike
    host, sink, clock = QueueHost(), Sink(), FakeClock()
    limiter = MemoryLimiter(
        settings("memory_limiter", Kind.PROCESSOR),
        MemoryLimiterConfig(check_interval=1, limit_mib=limit_mib, spike_limit_mib=10),  # type: ignore[arg-type]
        sink,
        clock,
    )
    await limiter.start(host)
    await limiter.consume(traces(1))
    assert len(sink.received) == 1

    host.bytes = 200 * MIB  # exporter queues filled up
    await clock.wait_for_sleepers(1)
    await clock.advance(1)
    with pytest.raises(RetryableError):
        await limiter.consume(traces(1))

    host.bytes = 0
    await clock.advance(1)
    await limiter.consume(traces(1))
    assert len(sink.received) == 2
    await limiter.shutdown()
