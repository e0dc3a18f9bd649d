"""Consumer errors on the wire: overload is retryable (UNAVAILABLE + RetryInfo, 503/429 +
Retry-After) and real SDK exporters retry it; permanent errors are not; partial success."""

from __future__ import annotations

import asyncio

import aiohttp
import grpc
import orjson
import pytest
from google.rpc import error_details_pb2, status_pb2
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpans
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from otlp_testkit import Recorder, SdkData, StartReceiver, grpc_call, post

from routewatch.collector import otlpjson
from routewatch.collector.component import Signal
from routewatch.collector.errors import (
    PartialSuccessError,
    PermanentError,
    RetryableError,
    ThrottledError,
)

LABELS_HTTP = {"receiver": "otlp", "transport": "http"}
LABELS_GRPC = {"receiver": "otlp", "transport": "grpc"}


@pytest.mark.parametrize(
    ("error", "want_status", "want_retry_after"),
    [
        (RetryableError("sending queue is full", retry_after=2.5), 503, "3"),
        (RetryableError("sending queue is full"), 503, "1"),
        (RuntimeError("anything else is retryable"), 503, "1"),
        (ThrottledError("slow down", retry_after=7), 429, "7"),
        (PermanentError("bad data"), 400, None),
    ],
)
async def test_http_consumer_errors_map_to_status(
    start_receiver: StartReceiver,
    sdk_data: SdkData,
    error: Exception,
    want_status: int,
    want_retry_after: str | None,
) -> None:
    recorder = Recorder()
    recorder.failures.append(error)
    receiver = await start_receiver(recorder, http={})
    body = sdk_data.requests[Signal.TRACES].SerializeToString()
    status, _, payload, headers = await post(receiver, body)
    assert status == want_status
    assert headers.get("Retry-After") == want_retry_after
    rpc = status_pb2.Status.FromString(payload)
    assert rpc.message == str(error)
    telemetry = receiver.settings.telemetry
    assert telemetry.value("otelcol_receiver_refused_spans", LABELS_HTTP) == 2
    # The next request goes through.
    assert (await post(receiver, body))[0] == 200
    assert telemetry.value("otelcol_receiver_accepted_spans", LABELS_HTTP) == 2


async def test_http_json_error_body_is_json(
    start_receiver: StartReceiver, sdk_data: SdkData
) -> None:
    recorder = Recorder()
    recorder.failures.append(RetryableError("sending queue is full"))
    receiver = await start_receiver(recorder, http={})

    body = otlpjson.encode(sdk_data.requests[Signal.TRACES])
    status, content_type, payload, _ = await post(receiver, body, "application/json")
    assert (status, content_type) == (503, "application/json")
    assert orjson.loads(payload) == {"code": 14, "message": "sending queue is full"}


@pytest.mark.parametrize(
    ("error", "want_code", "want_delay"),
    [
        (
            RetryableError("sending queue is full", retry_after=2.5),
            grpc.StatusCode.UNAVAILABLE,
            2.5,
        ),
        (ThrottledError("slow down", retry_after=7), grpc.StatusCode.UNAVAILABLE, 7.0),
        (RuntimeError("boom"), grpc.StatusCode.UNAVAILABLE, 1.0),
        (PermanentError("bad data"), grpc.StatusCode.INVALID_ARGUMENT, None),
    ],
)
async def test_grpc_consumer_errors_map_to_status(
    start_receiver: StartReceiver,
    sdk_data: SdkData,
    error: Exception,
    want_code: grpc.StatusCode,
    want_delay: float | None,
) -> None:
    recorder = Recorder()
    recorder.failures.append(error)
    receiver = await start_receiver(recorder, grpc={})
    payload = sdk_data.requests[Signal.TRACES].SerializeToString()
    code, details, trailers = await grpc_call(receiver, payload)
    assert code == want_code
    assert details == str(error)
    if want_delay is None:
        assert "grpc-status-details-bin" not in trailers
    else:
        status = status_pb2.Status.FromString(trailers["grpc-status-details-bin"])
        assert status.code == want_code.value[0]
        info = error_details_pb2.RetryInfo()
        assert status.details[0].Unpack(info)
        assert info.retry_delay.ToNanoseconds() == int(want_delay * 1e9)
    assert receiver.settings.telemetry.value("otelcol_receiver_refused_spans", LABELS_GRPC) == 2
    assert (await grpc_call(receiver, payload))[0] == grpc.StatusCode.OK


async def test_partial_success_on_both_transports(
    start_receiver: StartReceiver, sdk_data: SdkData
) -> None:
    recorder = Recorder()
    receiver = await start_receiver(recorder, grpc={}, http={})
    request = sdk_data.requests[Signal.TRACES]

    recorder.failures.append(PartialSuccessError(1, "span 'x' dropped: too old"))
    status, _, payload, _ = await post(receiver, request.SerializeToString())
    assert status == 200
    response = ExportTraceServiceResponse.FromString(payload)
    assert response.partial_success.rejected_spans == 1
    assert response.partial_success.error_message == "span 'x' dropped: too old"

    recorder.failures.append(PartialSuccessError(2, "all dropped"))
    status, _, payload, _ = await post(receiver, otlpjson.encode(request), "application/json")
    assert status == 200
    assert orjson.loads(payload) == {
        "partialSuccess": {"rejectedSpans": "2", "errorMessage": "all dropped"}
    }

    recorder.failures.append(PartialSuccessError(1, "one dropped"))
    assert receiver.grpc is not None
    async with grpc.aio.insecure_channel(f"127.0.0.1:{receiver.grpc.port}") as channel:
        call = channel.unary_unary(
            "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
            response_deserializer=ExportTraceServiceResponse.FromString,
        )
        response = await call(request.SerializeToString())
    assert response.partial_success.rejected_spans == 1
    telemetry = receiver.settings.telemetry
    assert telemetry.value("otelcol_receiver_refused_spans", LABELS_HTTP) == 3
    assert telemetry.value("otelcol_receiver_accepted_spans", LABELS_HTTP) == 1
    assert telemetry.value("otelcol_receiver_refused_spans", LABELS_GRPC) == 1


async def test_sdk_grpc_exporter_retries_after_unavailable(
    start_receiver: StartReceiver, sdk_data: SdkData
) -> None:
    recorder = Recorder()
    recorder.failures.append(RetryableError("sending queue is full", retry_after=0.01))
    receiver = await start_receiver(recorder, grpc={})
    assert receiver.grpc is not None
    exporter = GrpcSpans(endpoint=f"127.0.0.1:{receiver.grpc.port}", insecure=True)
    try:
        result = await asyncio.to_thread(exporter.export, sdk_data.spans)
    finally:
        exporter.shutdown()
    assert result.name == "SUCCESS"
    assert recorder.calls == 2
    assert recorder.received == [sdk_data.requests[Signal.TRACES]]


async def test_sdk_http_exporter_retries_after_503(
    start_receiver: StartReceiver, sdk_data: SdkData
) -> None:
    recorder = Recorder()
    recorder.failures.append(RetryableError("sending queue is full", retry_after=0.01))
    receiver = await start_receiver(recorder, http={})
    assert receiver.http is not None
    exporter = HttpSpans(endpoint=f"http://127.0.0.1:{receiver.http.port}/v1/traces")
    try:
        result = await asyncio.to_thread(exporter.export, sdk_data.spans)
    finally:
        exporter.shutdown()
    assert result.name == "SUCCESS"
    assert recorder.calls == 2
    assert recorder.received == [sdk_data.requests[Signal.TRACES]]


async def test_http_session_reuse_after_errors(
    start_receiver: StartReceiver, sdk_data: SdkData
) -> None:
    """Errors do not break a kept-alive connection."""
    recorder = Recorder()
    receiver = await start_receiver(recorder, http={})
    assert receiver.http is not None
    url = f"http://127.0.0.1:{receiver.http.port}/v1/traces"
    good = sdk_data.requests[Signal.TRACES].SerializeToString()
    async with aiohttp.ClientSession() as session:
        for body, ctype, want in [
            (b"\xff", "application/x-protobuf", 400),
            (good, "text/plain", 415),
            (good, "application/x-protobuf", 200),
        ]:
            async with session.post(url, data=body, headers={"Content-Type": ctype}) as resp:
                assert resp.status == want
    assert len(recorder.received) == 1
