"""The shared test servers work with real clients."""

import grpc
import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from support.moto import moto_server
from support.otlp_sink import otlp_sink


def test_moto_server_serves_cloudwatch_logs() -> None:
    with moto_server() as moto:
        logs = moto.client("logs")
        logs.create_log_group(logGroupName="/t")
        assert [g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]] == ["/t"]


def test_otlp_sink_records_and_fails_on_demand() -> None:
    with otlp_sink() as sink, grpc.insecure_channel(sink.endpoint) as channel:
        stub = trace_service_pb2_grpc.TraceServiceStub(channel)
        req = trace_service_pb2.ExportTraceServiceRequest()
        req.resource_spans.add().scope_spans.add().spans.add(name="s")
        stub.Export(req, timeout=5)
        assert sink.span_count() == 1
        sink.fail_with = grpc.StatusCode.UNAVAILABLE
        with pytest.raises(grpc.RpcError) as err:
            stub.Export(req, timeout=5)
        assert err.value.code() == grpc.StatusCode.UNAVAILABLE
        assert sink.span_count() == 1
