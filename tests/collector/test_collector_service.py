"""The pipeline graph and the service: shared instances, fan-out, connectors, lifecycle."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from rw_testcomponents import logs, make_registry, metrics, traces
from support.ports import free_port

from routewatch.collector.component import ComponentID, Kind, Signal
from routewatch.collector.config import resolve
from routewatch.collector.errors import ConfigError, PermanentError, RetryableError
from routewatch.collector.service import Service
from routewatch.collector.service.service import StartError


def _service(doc: dict[str, Any], **kw: Any) -> Service:
    doc.setdefault("service", {}).setdefault("telemetry", {"metrics": {"level": "none"}})
    return Service(resolve(doc, make_registry()), **kw)


def _exporter(service: Service, id: str, signal: Signal) -> Any:
    return service.graph.exporters[(ComponentID.parse(id), signal)]


NO_QUEUE = {"sending_queue": {"enabled": False}, "retry_on_failure": {"enabled": False}}


async def test_one_receiver_instance_serves_every_signal() -> None:
    service = _service(
        {
            "receivers": {"push": {}},
            "processors": {"batch": {"timeout": 0}},
            "exporters": {"record": NO_QUEUE},
            "service": {
                "pipelines": {
                    "traces": {
                        "receivers": ["push"],
                        "processors": ["batch"],
                        "exporters": ["record"],
                    },
                    "metrics": {
                        "receivers": ["push"],
                        "processors": ["batch"],
                        "exporters": ["record"],
                    },
                }
            },
        }
    )
    receivers = service.nodes(Kind.RECEIVER)
    assert len(receivers) == 1
    receiver = receivers[0].component
    assert receiver.next.signals == {Signal.TRACES, Signal.METRICS}
    # processors: one per pipeline; exporters: one per signal
    assert len(service.nodes(Kind.PROCESSOR)) == 2
    assert len(service.nodes(Kind.EXPORTER)) == 2
    await service.start()
    await receiver.push(traces(2))
    await receiver.push(metrics(["m"], points=3))
    assert _exporter(service, "record", Signal.TRACES).recorder.items() == 2
    assert _exporter(service, "record", Signal.METRICS).recorder.items() == 3
    with pytest.raises(PermanentError, match="no pipeline takes ExportLogsServiceRequest"):
        await receiver.push(logs(1))
    await service.shutdown()
    assert receiver.stopped


async def test_fanout_failure_in_one_exporter_does_not_starve_the_other() -> None:
    service = _service(
        {
            "receivers": {"push": {}},
            "exporters": {"record/a": NO_QUEUE, "record/b": NO_QUEUE},
            "service": {
                "pipelines": {
                    "traces": {"receivers": ["push"], "exporters": ["record/a", "record/b"]}
                }
            },
        }
    )
    await service.start()
    receiver = service.graph.receivers[ComponentID("push")]
    a = _exporter(service, "record/a", Signal.TRACES).recorder
    b = _exporter(service, "record/b", Signal.TRACES).recorder

    a.failures = [RetryableError("a is down", retry_after=3)]
    with pytest.raises(RetryableError) as info:
        await receiver.push(traces(1))
    assert info.value.retry_after == 3
    assert b.items() == 1  # b got it anyway

    a.failures = [PermanentError("a rejects")]
    b.failures = [PermanentError("b rejects")]
    with pytest.raises(PermanentError):
        await receiver.push(traces(1))

    a.failures = [PermanentError("a rejects")]
    b.failures = [RetryableError("b later")]
    with pytest.raises(RetryableError):  # retryable wins: b can still take it
        await receiver.push(traces(1))
    telemetry = service.telemetry
    labels = {"receiver": "push", "transport": "test"}
    assert telemetry.value("otelcol_receiver_refused_spans", labels) == 3
    await service.shutdown()


async def test_connector_turns_metrics_into_logs() -> None:
    service = _service(
        {
            "receivers": {"push": {}},
            "connectors": {"to_logs": {}},
            "exporters": {"record": NO_QUEUE},
            "service": {
                "pipelines": {
                    "metrics": {"receivers": ["push"], "exporters": ["to_logs"]},
                    "logs": {"receivers": ["to_logs"], "exporters": ["record"]},
                }
            },
        }
    )
    kinds = [n.kind for n in service.nodes()]
    # consumers before producers: exporter, connector, receiver
    assert kinds == [Kind.EXPORTER, Kind.CONNECTOR, Kind.RECEIVER]
    await service.start()
    await service.graph.receivers[ComponentID("push")].push(metrics(["cpu", "mem"]))
    received = _exporter(service, "record", Signal.LOGS).recorder.received
    bodies = [r.body.string_value for r in received[0].resource_logs[0].scope_logs[0].log_records]
    assert bodies == ["cpu", "mem"]
    await service.shutdown()


async def test_backpressure_from_a_full_queue_reaches_the_receiver() -> None:
    service = _service(
        {
            "receivers": {"push": {}},
            "processors": {"batch": {"send_batch_size": 1}},
            "exporters": {"record": {"sending_queue": {"queue_size": 1, "num_consumers": 1}}},
            "service": {
                "pipelines": {
                    "traces": {
                        "receivers": ["push"],
                        "processors": ["batch"],
                        "exporters": ["record"],
                    }
                }
            },
        }
    )
    await service.start()
    recorder = _exporter(service, "record", Signal.TRACES).recorder
    recorder.gate = asyncio.Event()
    receiver = service.graph.receivers[ComponentID("push")]
    await receiver.push(traces(1))  # in flight at the exporter
    await receiver.push(traces(1))  # held by batch: the queue refused it
    with pytest.raises(RetryableError):
        await receiver.push(traces(1))
    recorder.gate.set()
    await service.shutdown()
    assert recorder.items() == 2  # everything accepted was delivered


async def test_start_failure_rolls_back() -> None:
    service = _service(
        {
            "receivers": {"push": {}},
            "exporters": {"record": {}},
            "extensions": {
                "fail_start": {"message": "disk on fire"},
                "file_storage": {"directory": "/tmp"},
            },
            "service": {
                "extensions": ["file_storage", "fail_start"],
                "pipelines": {"traces": {"receivers": ["push"], "exporters": ["record"]}},
            },
        }
    )
    with pytest.raises(StartError, match="failed to start extension fail_start: disk on fire"):
        await service.start()
    receiver = service.graph.receivers[ComponentID("push")]
    assert not receiver.started  # never reached
    failed = service.graph.extensions[ComponentID("fail_start")].component
    assert failed.shutdowns == 1  # a half-started component is shut down too
    await service.shutdown()  # safe after a failed start


async def test_shutdown_without_start_and_twice() -> None:
    service = _service(
        {
            "receivers": {"push": {}},
            "exporters": {"record": {}},
            "service": {"pipelines": {"traces": {"receivers": ["push"], "exporters": ["record"]}}},
        }
    )
    await service.shutdown()
    await service.shutdown()


async def test_metrics_endpoint_serves_go_names() -> None:
    port = free_port()
    service = _service(
        {
            "receivers": {"push": {}},
            "exporters": {"record": {}},
            "service": {
                "pipelines": {"traces": {"receivers": ["push"], "exporters": ["record"]}},
                "telemetry": {"metrics": {"address": f"127.0.0.1:{port}"}},
            },
        }
    )
    await service.start()
    await service.graph.receivers[ComponentID("push")].push(traces(4))
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}/metrics") as response,
    ):
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = await response.text()
    assert 'otelcol_receiver_accepted_spans{receiver="push",transport="test"} 4' in text
    assert 'otelcol_exporter_queue_capacity{data_type="traces",exporter="record"} 1000' in text
    assert "# TYPE otelcol_process_memory_rss gauge" in text
    await service.shutdown()


def test_a_connector_cycle_is_a_config_error() -> None:
    doc = {
        "receivers": {"push": {}},
        "connectors": {"to_logs": {}},
        "exporters": {"record": {}},
        "service": {
            "pipelines": {
                "traces": {"receivers": ["push", "to_logs"], "exporters": ["to_logs", "record"]}
            }
        },
    }
    with pytest.raises(ConfigError, match=r"^service::pipelines::traces: cycle detected"):
        _service(doc)


async def test_a_per_signal_receiver_gets_each_signal_explicitly() -> None:
    service = _service(
        {
            "receivers": {"per_signal": {}},
            "exporters": {"record": NO_QUEUE},
            "service": {
                "pipelines": {
                    s: {"receivers": ["per_signal"], "exporters": ["record"]}
                    for s in ("traces", "metrics", "logs")
                }
            },
        }
    )
    (node,) = service.nodes(Kind.RECEIVER)
    receiver = node.component
    assert set(receiver.consumers) == {Signal.TRACES, Signal.METRICS, Signal.LOGS}
    await service.start()
    await receiver.push(traces(1))
    await receiver.push(metrics(["m"], points=2))
    await receiver.push(logs(3))
    for signal, items in ((Signal.TRACES, 1), (Signal.METRICS, 2), (Signal.LOGS, 3)):
        assert _exporter(service, "record", signal).recorder.items() == items
    await service.shutdown()
