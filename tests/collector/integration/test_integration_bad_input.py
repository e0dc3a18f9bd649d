"""Bad input against a running `routewatch run`: each request gets the specified status and the
collector keeps serving the next one (the receiver's own tests cover the cases in depth)."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import grpc
import orjson
from google.rpc import status_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from rw_collector_proc import Collector, otlp_receiver, post, request, span_ids_of
from support.ports import free_port

from routewatch.collector import otlpjson
from routewatch.collector.component import Signal
from routewatch.collector.exporters.file.file import read_records

LIMIT = 64 * 1024
TRACE_METHOD = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


def _request(span_id: int, name: str = "op", spans: int = 1) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    scope = request.resource_spans.add().scope_spans.add()
    for i in range(spans):
        span = scope.spans.add(name=name)
        span.trace_id = b"\1" * 16
        span.span_id = (span_id + i).to_bytes(8, "big")
    return request


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    return bytes([*out, value])


def _gzip_bomb() -> bytes:
    """256 MiB of zeros in a quarter of a MiB."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = bytes(1024 * 1024)
    return b"".join(compressor.compress(chunk) for _ in range(256)) + compressor.flush()


def test_bad_requests_get_their_status_and_the_collector_keeps_serving(tmp_path: Path) -> None:
    grpc_port, http_port = free_port(), free_port()
    out = tmp_path / "traces.jsonl"
    receiver = otlp_receiver(grpc_port, http_port, max_request_body_size=LIMIT)
    receiver["protocols"]["grpc"]["max_recv_msg_size_mib"] = 1
    doc = {
        "receivers": {"otlp": receiver},
        "exporters": {"file": {"path": str(out)}},
        "service": {"pipelines": {"traces": {"receivers": ["otlp"], "exporters": ["file"]}}},
    }
    url = f"http://127.0.0.1:{http_port}/v1/traces"
    big = _request(1, "x" * 1000, LIMIT // 1000 + 2).SerializeToString()
    assert len(big) > LIMIT
    unknown = otlpjson.to_dict(_request(1))
    unknown["someFutureField"] = {"x": [1]}
    unknown["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["newSpanField"] = "v"
    # name -> (body, content type, extra headers, HTTP status, google.rpc.Code or None)
    bad = {
        "malformed protobuf": (b"\x0a\xff\xff\xff\xff", "application/x-protobuf", {}, 400, 3),
        "malformed json": (b'{"resourceSpans": [', "application/json", {}, 400, 3),
        "wrong content type": (_request(1).SerializeToString(), "text/plain", {}, 415, None),
        "empty json body": (b"", "application/json", {}, 400, 3),
        "over the limit": (big, "application/x-protobuf", {}, 413, 8),
        "over the limit after gzip": (
            gzip.compress(_request(1, "x" * 1000, 4 * LIMIT // 1000).SerializeToString()),
            "application/x-protobuf",
            {"Content-Encoding": "gzip"},
            413,
            8,
        ),
        "gzip bomb": (_gzip_bomb(), "application/x-protobuf", {"Content-Encoding": "gzip"}, 413, 8),
    }
    expected: list[str] = []
    next_id = 100
    with Collector(tmp_path, doc) as collector:
        collector.start()

        def still_serving() -> None:
            nonlocal next_id
            status, _, _ = post(url, _request(next_id).SerializeToString())
            assert status == 200
            expected.append(next_id.to_bytes(8, "big").hex())
            next_id += 1

        for name, (body, content_type, headers, want, code) in bad.items():
            status, got_headers, payload = post(url, body, content_type, **headers)
            assert status == want, name
            if code is not None:
                assert got_headers["Content-Type"] == content_type, name
                if content_type == "application/json":
                    detail = otlpjson.decode(payload, status_pb2.Status)
                else:
                    detail = status_pb2.Status.FromString(payload)
                assert (detail.code, bool(detail.message)) == (code, True), name
            still_serving()

        # Wrong method: 405 with Allow.
        for method in ("GET", "PUT"):
            status, headers, _ = request(url, method=method)
            assert (status, headers.get("Allow")) == (405, "POST")
        still_serving()
        # Empty protobuf body: a valid empty request, accepted with nothing to export.
        assert post(url, b"")[0] == 200
        # Unknown JSON fields are ignored, as by the Go receiver.
        status, _, _ = post(url, orjson.dumps(unknown), "application/json")
        assert status == 200
        expected.append(_request(1).resource_spans[0].scope_spans[0].spans[0].span_id.hex())
        # So are unknown protobuf fields (a newer client's field 999, varint 1).
        tag = _varint(999 << 3)
        assert post(url, _request(next_id).SerializeToString() + tag + b"\x01")[0] == 200
        expected.append(next_id.to_bytes(8, "big").hex())
        next_id += 1

        # gRPC: malformed -> INVALID_ARGUMENT; over max_recv_msg_size_mib -> RESOURCE_EXHAUSTED.
        with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
            call = channel.unary_unary(TRACE_METHOD)
            for payload, want_code in (
                (b"\x0a\xff\xff\xff\xff", grpc.StatusCode.INVALID_ARGUMENT),
                (
                    _request(1, "x" * 1000, 2 * 1024 + 10).SerializeToString(),
                    grpc.StatusCode.RESOURCE_EXHAUSTED,
                ),
            ):
                try:
                    call(payload, timeout=10)
                    raise AssertionError("accepted")
                except grpc.RpcError as err:
                    assert err.code() == want_code  # type: ignore[attr-defined]
            call(_request(next_id).SerializeToString(), timeout=10)
            expected.append(next_id.to_bytes(8, "big").hex())

        assert collector.stop() == 0
    assert "Traceback" not in collector.log()
    # Exactly the good requests went through; nothing of the bad ones.
    written = list(read_records(out, "json", Signal.TRACES))
    assert sorted(span_ids_of(written)) == sorted(expected)
