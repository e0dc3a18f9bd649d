"""Real OTLP clients into the `otlp` receiver: the OTel Python SDK's exporters over gRPC and
HTTP/protobuf, and OTLP/JSON posted with aiohttp. What the consumer gets equals what the SDK
encoded."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter as GrpcLogs
from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import (
    OTLPMetricExporter as GrpcMetrics,
)
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpans
from opentelemetry.exporter.otlp.proto.http import Compression as HttpCompression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter as HttpLogs
from opentelemetry.exporter.otlp.proto.http.metric_exporter import (
    OTLPMetricExporter as HttpMetrics,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpans
from otlp_testkit import Recorder, SdkData, StartReceiver

from routewatch.collector import otlpjson
from routewatch.collector.component import Signal


def _sdk_payload(data: SdkData, signal: Signal) -> Any:
    return {Signal.TRACES: data.spans, Signal.METRICS: data.metrics, Signal.LOGS: data.logs}[signal]


def _succeeded(result: Any) -> bool:
    return getattr(result, "name", str(result)) == "SUCCESS"


@pytest.mark.parametrize("signal", list(Signal))
@pytest.mark.parametrize("compression", ["none", "gzip"])
async def test_sdk_grpc_exporter_round_trip(
    start_receiver: StartReceiver, sdk_data: SdkData, signal: Signal, compression: str
) -> None:
    import grpc

    recorder = Recorder()
    receiver = await start_receiver(recorder, grpc={})
    assert receiver.grpc is not None
    cls = {Signal.TRACES: GrpcSpans, Signal.METRICS: GrpcMetrics, Signal.LOGS: GrpcLogs}[signal]
    exporter = cls(
        endpoint=f"127.0.0.1:{receiver.grpc.port}",
        insecure=True,
        compression=grpc.Compression.Gzip
        if compression == "gzip"
        else grpc.Compression.NoCompression,
    )
    try:
        result = await asyncio.to_thread(exporter.export, _sdk_payload(sdk_data, signal))
    finally:
        exporter.shutdown()
    assert _succeeded(result)
    assert recorder.received == [sdk_data.requests[signal]]
    items = {Signal.TRACES: "spans", Signal.METRICS: "metric_points", Signal.LOGS: "log_records"}
    accepted = receiver.settings.telemetry.value(
        f"otelcol_receiver_accepted_{items[signal]}",
        {"receiver": "otlp", "transport": "grpc"},
    )
    assert accepted > 0


@pytest.mark.parametrize("signal", list(Signal))
@pytest.mark.parametrize("compression", ["none", "gzip"])
async def test_sdk_http_exporter_round_trip(
    start_receiver: StartReceiver, sdk_data: SdkData, signal: Signal, compression: str
) -> None:
    recorder = Recorder()
    receiver = await start_receiver(recorder, http={})
    assert receiver.http is not None
    cls = {Signal.TRACES: HttpSpans, Signal.METRICS: HttpMetrics, Signal.LOGS: HttpLogs}[signal]
    exporter = cls(
        endpoint=f"http://127.0.0.1:{receiver.http.port}/v1/{signal.value}",
        compression=HttpCompression.Gzip
        if compression == "gzip"
        else HttpCompression.NoCompression,
    )
    try:
        result = await asyncio.to_thread(exporter.export, _sdk_payload(sdk_data, signal))
    finally:
        exporter.shutdown()
    assert _succeeded(result)
    assert recorder.received == [sdk_data.requests[signal]]


@pytest.mark.parametrize("signal", list(Signal))
async def test_otlp_json_post_round_trip(
    start_receiver: StartReceiver, sdk_data: SdkData, signal: Signal
) -> None:
    recorder = Recorder()
    receiver = await start_receiver(recorder, http={})
    assert receiver.http is not None
    body = otlpjson.encode(sdk_data.requests[signal])
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"http://127.0.0.1:{receiver.http.port}/v1/{signal.value}",
            data=body,
            headers={"Content-Type": "application/json"},
        ) as resp,
    ):
        assert resp.status == 200
        assert resp.content_type == "application/json"
        assert await resp.json() == {}
    assert recorder.received == [sdk_data.requests[signal]]


async def test_one_receiver_serves_all_signals_on_both_transports(
    start_receiver: StartReceiver, sdk_data: SdkData
) -> None:
    consumers = {signal: Recorder() for signal in Signal}
    receiver = await start_receiver(consumers, grpc={}, http={})
    assert receiver.grpc is not None and receiver.http is not None
    spans = GrpcSpans(endpoint=f"127.0.0.1:{receiver.grpc.port}", insecure=True)
    logs = HttpLogs(endpoint=f"http://127.0.0.1:{receiver.http.port}/v1/logs")
    try:
        assert _succeeded(await asyncio.to_thread(spans.export, sdk_data.spans))
        assert _succeeded(await asyncio.to_thread(logs.export, sdk_data.logs))
    finally:
        spans.shutdown()
        logs.shutdown()
    assert consumers[Signal.TRACES].received == [sdk_data.requests[Signal.TRACES]]
    assert consumers[Signal.LOGS].received == [sdk_data.requests[Signal.LOGS]]
    assert consumers[Signal.METRICS].received == []
