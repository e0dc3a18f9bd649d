"""Bad input to the `otlp` receiver: each request gets the specified status, and the receiver
keeps serving the next one."""

from __future__ import annotations

import gzip
import zlib

import grpc
import orjson
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from otlp_testkit import Recorder, SdkData, StartReceiver, grpc_call, post, status_of

from routewatch.collector import otlpjson
from routewatch.collector.component import Signal
from routewatch.collector.receivers.otlp.otlp import OtlpReceiver

LIMIT = 64 * 1024
TRACE_METHOD = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


def big_request(min_bytes: int) -> ExportTraceServiceRequest:
    """A valid trace request of at least `min_bytes`, highly compressible."""
    return ExportTraceServiceRequest(
        resource_spans=[
            {
                "scope_spans": [
                    {"spans": [{"name": "x" * 1000, "trace_id": b"\1" * 16} for _ in range(n)]}
                ]
            }
            for n in [min_bytes // 1000 + 1]
        ]
    )


async def assert_still_serving(receiver: OtlpReceiver, recorder: Recorder, sdk: SdkData) -> None:
    before = len(recorder.received)
    good = sdk.requests[Signal.TRACES].SerializeToString()
    status, _, body, _ = await post(receiver, good)
    assert status == 200
    assert ExportTraceServiceResponse.FromString(body) == ExportTraceServiceResponse()
    assert recorder.received[before:] == [sdk.requests[Signal.TRACES]]


BAD_HTTP = {
    "malformed protobuf": (b"\x0a\xff\xff\xff\xff", "application/x-protobuf", {}, 400, 3),
    "malformed json": (b'{"resourceSpans": [', "application/json", {}, 400, 3),
    "json of the wrong shape": (b'{"resourceSpans": {}}', "application/json", {}, 400, 3),
    "bad hex id": (
        b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"not-hex"}]}]}]}',
        "application/json",
        {},
        400,
        3,
    ),
    "empty json body": (b"", "application/json", {}, 400, 3),
    "corrupt gzip": (b"\x1f\x8b\x08\x00garbage", "application/x-protobuf", {"gzip": 1}, 400, 3),
    "unsupported encoding": (b"abc", "application/x-protobuf", {"br": 1}, 400, 3),
}


@pytest.mark.parametrize("case", list(BAD_HTTP))
async def test_http_bad_body_is_400_with_status(
    start_receiver: StartReceiver, sdk_data: SdkData, case: str
) -> None:
    body, content_type, encoding, want_status, want_code = BAD_HTTP[case]
    recorder = Recorder()
    receiver = await start_receiver(recorder, http={"max_request_body_size": LIMIT})
    headers = {"Content-Encoding": next(iter(encoding))} if encoding else {}
    status, got_type, payload, _ = await post(receiver, body, content_type, headers=headers)
    assert status == want_status
    assert got_type == content_type
    assert status_of(got_type, payload).code == want_code
    assert status_of(got_type, payload).message
    assert recorder.calls == 0
    await assert_still_serving(receiver, recorder, sdk_data)


async def test_http_json_error_names_the_path(start_receiver: StartReceiver) -> None:
    receiver = await start_receiver(Recorder(), http={})
    body = b'{"resourceSpans":[{"scopeSpans":[{},{"spans":[{"kind":"SPAN_KIND_NOPE"}]}]}]}'
    status, content_type, payload, _ = await post(receiver, body, "application/json")
    assert status == 400
    message = status_of(content_type, payload).message
    assert "resourceSpans[0].scopeSpans[1].spans[0].kind" in message
    assert "SPAN_KIND_NOPE" in message


async def test_http_wrong_method_is_405(start_receiver: StartReceiver, sdk_data: SdkData) -> None:
    recorder = Recorder()
    receiver = await start_receiver(recorder, http={})
    for method in ("GET", "PUT", "DELETE"):
        status, _, payload, headers = await post(receiver, b"", method=method)
        assert status == 405
        assert headers["Allow"] == "POST"
        assert payload == b"405 method not allowed, supported: [POST]"
    await assert_still_serving(receiver, recorder, sdk_data)


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "application/protobuf"])
async def test_http_wrong_content_type_is_415(
    start_receiver: StartReceiver, sdk_data: SdkData, content_type: str
) -> None:
    recorder = Recorder()
    receiver = await start_receiver(recorder, http={})
    body = sdk_data.requests[Signal.TRACES].SerializeToString()
    status, _, payload, _ = await post(receiver, body, content_type)
    assert status == 415
    assert b"application/json, application/x-protobuf" in payload
    assert recorder.calls == 0
    await assert_still_serving(receiver, recorder, sdk_data)


async def test_http_empty_protobuf_body_is_an_empty_request(start_receiver: StartReceiver) -> None:
    recorder = Recorder()
    receiver = await start_receiver(recorder, http={})
    status, _, payload, _ = await post(receiver, b"")
    # As the Go receiver: an empty protobuf message is valid, has no items, reaches no consumer.
    assert status == 200
    assert ExportTraceServiceResponse.FromString(payload) == ExportTraceServiceResponse()
    assert recorder.calls == 0
    status, _, payload, _ = await post(receiver, b"{}", "application/json")
    assert (status, orjson.loads(payload)) == (200, {})


async def test_http_unknown_json_fields_are_ignored(
    start_receiver: StartReceiver, sdk_data: SdkData
) -> None:
    recorder = Recorder()
    receiver = await start_receiver(recorder, http={})
    doc = otlpjson.to_dict(sdk_data.requests[Signal.TRACES])
    doc["someFutureField"] = {"x": [1, 2]}
    doc["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["newSpanField"] = "value"
    status, _, _, _ = await post(receiver, orjson.dumps(doc), "application/json")
    assert status == 200
    assert recorder.received == [sdk_data.requests[Signal.TRACES]]


@pytest.mark.parametrize("content_type", ["application/x-protobuf", "application/json"])
async def test_http_body_over_the_limit_is_413(
    start_receiver: StartReceiver, sdk_data: SdkData, content_type: str
) -> None:
    recorder = Recorder()
    receiver = await start_receiver(recorder, http={"max_request_body_size": LIMIT})
    request = big_request(LIMIT + 1)
    body = (
        request.SerializeToString()
        if content_type == "application/x-protobuf"
        else otlpjson.encode(request)
    )
    assert len(body) > LIMIT
    status, got_type, payload, headers = await post(receiver, body, content_type)
    assert status == 413
    assert status_of(got_type, payload).code == grpc.StatusCode.RESOURCE_EXHAUSTED.value[0]
    assert "Retry-After" not in headers
    assert recorder.calls == 0
    await assert_still_serving(receiver, recorder, sdk_data)


async def test_http_gzip_under_the_limit_inflating_over_it_is_413(
    start_receiver: StartReceiver, sdk_data: SdkData
) -> None:
    recorder = Recorder()
    receiver = await start_receiver(recorder, http={"max_request_body_size": LIMIT})
    body = gzip.compress(big_request(4 * LIMIT).SerializeToString())
    assert len(body) < LIMIT
    status, _, _, _ = await post(receiver, body, headers={"Content-Encoding": "gzip"})
    assert status == 413
    assert recorder.calls == 0
    await assert_still_serving(receiver, recorder, sdk_data)


async def test_http_gzip_bomb_is_refused_without_inflating_it(
    start_receiver: StartReceiver, sdk_data: SdkData
) -> None:
    recorder = Recorder()
    receiver = await start_receiver(recorder, http={})  # default limit: 20 MiB
    # 256 MiB of zeros in a quarter of a MiB: inflating it whole would take 256 MiB.
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = bytes(1024 * 1024)
    bomb = b"".join(compressor.compress(chunk) for _ in range(256)) + compressor.flush()
    assert len(bomb) < 1024 * 1024
    status, _, _, _ = await post(receiver, bomb, headers={"Content-Encoding": "gzip"})
    assert status == 413
    await assert_still_serving(receiver, recorder, sdk_data)


async def test_http_gzip_within_the_limit_is_accepted(
    start_receiver: StartReceiver, sdk_data: SdkData
) -> None:
    recorder = Recorder()
    receiver = await start_receiver(recorder, http={"max_request_body_size": LIMIT})
    request = sdk_data.requests[Signal.TRACES]
    # Two gzip members back to back are one valid gzip stream (RFC 1952).
    raw = request.SerializeToString()
    body = gzip.compress(raw[:10]) + gzip.compress(raw[10:])
    status, _, _, _ = await post(receiver, body, headers={"Content-Encoding": "gzip"})
    assert status == 200
    assert recorder.received == [request]


async def test_http_unconfigured_signal_and_path_are_404(start_receiver: StartReceiver) -> None:
    receiver = await start_receiver({Signal.TRACES: Recorder()}, http={})
    assert (await post(receiver, b"", path="/v1/metrics"))[0] == 404
    assert (await post(receiver, b"", path="/v2/traces"))[0] == 404


async def test_http_custom_url_path(start_receiver: StartReceiver, sdk_data: SdkData) -> None:
    recorder = Recorder()
    receiver = await start_receiver(recorder, http={"traces_url_path": "/otlp/traces"})
    body = sdk_data.requests[Signal.TRACES].SerializeToString()
    assert (await post(receiver, body, path="/otlp/traces"))[0] == 200
    assert (await post(receiver, body, path="/v1/traces"))[0] == 404
    assert recorder.received == [sdk_data.requests[Signal.TRACES]]


async def test_grpc_malformed_protobuf_is_invalid_argument(
    start_receiver: StartReceiver, sdk_data: SdkData
) -> None:
    recorder = Recorder()
    receiver = await start_receiver(recorder, grpc={})
    code, details, _ = await grpc_call(receiver, b"\x0a\xff\xff\xff\xff")
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert "unmarshal" in details
    assert recorder.calls == 0
    good = sdk_data.requests[Signal.TRACES].SerializeToString()
    assert (await grpc_call(receiver, good))[0] == grpc.StatusCode.OK
    assert recorder.received == [sdk_data.requests[Signal.TRACES]]


@pytest.mark.parametrize("compression", [None, grpc.Compression.Gzip])
async def test_grpc_over_the_limit_is_resource_exhausted_without_retry_info(
    start_receiver: StartReceiver, sdk_data: SdkData, compression: grpc.Compression | None
) -> None:
    recorder = Recorder()
    receiver = await start_receiver(recorder, grpc={"max_recv_msg_size_mib": 1})
    payload = big_request(2 * 1024 * 1024).SerializeToString()
    code, _, trailers = await grpc_call(receiver, payload, compression=compression)
    assert code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "grpc-status-details-bin" not in trailers
    assert recorder.calls == 0
    good = sdk_data.requests[Signal.TRACES].SerializeToString()
    assert (await grpc_call(receiver, good))[0] == grpc.StatusCode.OK


async def test_grpc_empty_request_is_ok_and_reaches_no_consumer(
    start_receiver: StartReceiver,
) -> None:
    recorder = Recorder()
    receiver = await start_receiver(recorder, grpc={})
    assert (await grpc_call(receiver, b""))[0] == grpc.StatusCode.OK
    assert recorder.calls == 0


async def test_grpc_unconfigured_signal_is_unimplemented(start_receiver: StartReceiver) -> None:
    receiver = await start_receiver({Signal.TRACES: Recorder()}, grpc={})
    method = "/opentelemetry.proto.collector.logs.v1.LogsService/Export"
    assert (await grpc_call(receiver, b"", method))[0] == grpc.StatusCode.UNIMPLEMENTED
