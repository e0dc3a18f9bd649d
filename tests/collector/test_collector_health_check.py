"""health_check: the Go response, 503 while starting/stopping, readiness from exporters."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import aiohttp
import pytest
from rw_testcomponents import StubHost, make_registry, settings, traces
from support.ports import free_port

from routewatch.collector.clock import FakeClock
from routewatch.collector.component import ComponentID, Kind, Signal
from routewatch.collector.config import resolve
from routewatch.collector.errors import RetryableError
from routewatch.collector.extensions.health_check.config import HealthCheckConfig
from routewatch.collector.extensions.health_check.health_check import HealthCheck, go_duration
from routewatch.collector.service import Service


async def _get(port: int, path: str) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}{path}") as response,
    ):
        return response.status, await response.json(content_type=None)


def test_go_duration_format() -> None:
    assert go_duration(0) == "0s"
    assert go_duration(0.25) == "250ms"
    assert go_duration(2.5) == "2.5s"
    assert go_duration(62.25) == "1m2.25s"
    assert go_duration(3723) == "1h2m3s"


async def test_503_until_ready_then_go_body_then_503_when_stopping() -> None:
    port = free_port()
    now = [1_700_000_000.0]
    check = HealthCheck(
        settings("health_check", Kind.EXTENSION),
        HealthCheckConfig(endpoint=f"127.0.0.1:{port}"),
        wall_clock=lambda: now[0],
    )
    await check.start(StubHost())
    status, body = await _get(port, "/")
    assert (status, body) == (
        503,
        {"status": "Server not available", "upSince": "0001-01-01T00:00:00Z", "uptime": ""},
    )
    check.ready()
    now[0] += 61.5
    status, body = await _get(port, "/")
    assert status == 200
    assert body == {
        "status": "Server available",
        "upSince": "2023-11-14T22:13:20Z",
        "uptime": "1m1.5s",
    }
    check.not_ready()
    assert (await _get(port, "/"))[0] == 503
    await check.shutdown()
    await check.shutdown()


def _doc(port: int, exporter: dict[str, Any]) -> dict[str, Any]:
    return {
        "receivers": {"push": {}},
        "exporters": {"record": exporter},
        "extensions": {
            "health_check": {
                "endpoint": f"127.0.0.1:{port}",
                "readiness": {"min_sends": 3, "max_failure_ratio": 0.5},
            }
        },
        "service": {
            "extensions": ["health_check"],
            "pipelines": {"traces": {"receivers": ["push"], "exporters": ["record"]}},
            "telemetry": {"metrics": {"level": "none"}},
        },
    }


async def test_readiness_turns_unhealthy_when_sends_fail() -> None:
    port = free_port()
    doc = _doc(
        port,
        {
            "sending_queue": {"enabled": False},
            "retry_on_failure": {"enabled": False},
            "label": "s3cr3t-routing-key",
        },
    )
    service = Service(resolve(doc, make_registry()))
    await service.start()
    receiver = service.graph.receivers[ComponentID("push")]
    recorder = service.graph.exporters[(ComponentID("record"), Signal.TRACES)].recorder
    await receiver.push(traces(1))
    status, body = await _get(port, "/ready")
    assert status == 200 and body["exporters"][0]["healthy"] is True

    recorder.failures = [RetryableError("down") for _ in range(3)]
    for _ in range(3):
        with contextlib.suppress(RetryableError):
            await receiver.push(traces(1))
    status, body = await _get(port, "/ready")
    assert status == 503
    detail = body["exporters"][0]
    assert detail == {
        "exporter": "record",
        "data_type": "traces",
        "healthy": False,
        "sent": 1,
        "failed": 3,
        "failure_ratio": 0.75,
        "queue_size": 0,
        "queue_capacity": 0,
    }
    assert (await _get(port, "/"))[0] == 200  # liveness is unaffected
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}/ready") as response,
    ):
        assert "s3cr3t" not in await response.text()
    await service.shutdown()


async def test_readiness_turns_unhealthy_when_a_queue_is_nearly_full() -> None:
    port = free_port()
    doc = _doc(port, {"sending_queue": {"queue_size": 5, "num_consumers": 1}})
    service = Service(resolve(doc, make_registry()))
    await service.start()
    receiver = service.graph.receivers[ComponentID("push")]
    recorder = service.graph.exporters[(ComponentID("record"), Signal.TRACES)].recorder
    recorder.gate = asyncio.Event()
    for _ in range(4):
        await receiver.push(traces(1))
    assert (await _get(port, "/ready"))[0] == 200  # 4/5 = 80 %: not above
    await receiver.push(traces(1))
    status, body = await _get(port, "/ready")
    assert status == 503 and body["exporters"][0]["queue_size"] == 5
    recorder.gate.set()
    await service.shutdown()


async def test_check_collector_pipeline_turns_liveness_503() -> None:
    port = free_port()
    doc = _doc(port, {"sending_queue": {"enabled": False}, "retry_on_failure": {"enabled": False}})
    doc["extensions"]["health_check"]["check_collector_pipeline"] = {
        "enabled": True,
        "interval": "5m",
        "exporter_failure_threshold": 2,
    }
    service = Service(resolve(doc, make_registry()))
    await service.start()
    receiver = service.graph.receivers[ComponentID("push")]
    recorder = service.graph.exporters[(ComponentID("record"), Signal.TRACES)].recorder
    recorder.failures = [RetryableError("down") for _ in range(3)]
    for expected in (200, 200, 503):
        with contextlib.suppress(RetryableError):
            await receiver.push(traces(1))
        assert (await _get(port, "/"))[0] == expected
    await service.shutdown()
    # Shut down: the port is closed.
    with pytest.raises(aiohttp.ClientConnectionError):
        await _get(port, "/")


async def test_readiness_sees_failing_attempts_while_retries_go_on() -> None:
    port = free_port()
    doc = _doc(port, {})
    service = Service(resolve(doc, make_registry()))
    await service.start()
    exporter = service.graph.exporters[(ComponentID("record"), Signal.TRACES)]
    exporter.clock = FakeClock(auto_advance=True)  # backoff waits pass at once
    recorder = exporter.recorder
    recorder.failures = [RetryableError("down") for _ in range(1000)]
    await service.graph.receivers[ComponentID("push")].push(traces(1))  # queued: accepted
    await recorder.wait_calls(5)
    status, body = await _get(port, "/ready")
    assert status == 503 and body["exporters"][0]["failed"] >= 5
    recorder.failures.clear()
    await service.shutdown()
    assert recorder.items() == 1
