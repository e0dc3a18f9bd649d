"""Backpressure end to end: a downstream OTLP/gRPC server answering UNAVAILABLE fills the
sending queue, the receiver refuses with a retryable status, and once the server recovers
everything that was accepted arrives."""

from __future__ import annotations

import asyncio

import aiohttp
import grpc
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from rw_testcomponents import make_registry
from support.otlp_sink import otlp_sink
from support.ports import free_port

from routewatch.collector.clock import FakeClock
from routewatch.collector.component import ComponentID, Signal
from routewatch.collector.config import resolve
from routewatch.collector.service import Service


def _request(batch: int) -> bytes:
    request = ExportTraceServiceRequest()
    scope = request.resource_spans.add().scope_spans.add()
    for i in range(3):
        span = scope.spans.add(name=f"b{batch}")
        span.span_id = (batch * 10 + i + 1).to_bytes(8, "big")
    return request.SerializeToString()


async def test_unavailable_downstream_pushes_back_then_delivers_everything_accepted() -> None:
    port = free_port()
    with otlp_sink() as sink:
        sink.fail_with = grpc.StatusCode.UNAVAILABLE
        doc = {
            "receivers": {"http_push": {"endpoint": f"127.0.0.1:{port}"}},
            "processors": {"batch": {"send_batch_size": 1}},
            "exporters": {
                "grpc_out": {
                    "endpoint": sink.endpoint,
                    "sending_queue": {"queue_size": 3, "num_consumers": 1},
                    "retry_on_failure": {"max_elapsed_time": 0},
                }
            },
            "service": {
                "pipelines": {
                    "traces": {
                        "receivers": ["http_push"],
                        "processors": ["batch"],
                        "exporters": ["grpc_out"],
                    }
                },
                "telemetry": {"metrics": {"level": "none"}},
            },
        }
        service = Service(resolve(doc, make_registry()))
        exporter = service.graph.exporters[(ComponentID("grpc_out"), Signal.TRACES)]
        exporter.clock = FakeClock(auto_advance=True)  # backoff waits pass at once
        await service.start()
        accepted: set[str] = set()
        refused = None
        async with aiohttp.ClientSession() as session:
            for batch in range(20):
                async with session.post(
                    f"http://127.0.0.1:{port}/v1/traces", data=_request(batch)
                ) as response:
                    if response.status == 200:
                        accepted |= {f"b{batch}"}
                        continue
                    refused = (response.status, response.headers.get("Retry-After"))
                    break
        assert refused is not None and refused[0] == 503 and refused[1]
        assert 3 <= len(accepted) <= 6  # queue of 3 + one in flight + one held by batch

        sink.fail_with = None  # the backend recovers
        arrived = await asyncio.to_thread(
            sink.wait_for, lambda s: {sp.name for sp in s.spans()} >= accepted, 20
        )
        assert arrived
        await service.shutdown()
        assert {sp.name for sp in sink.spans()} == accepted
        assert sink.span_count() == 3 * len(accepted)  # nothing twice
