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


def test_fault_proxy_injects_then_forwards() -> None:
    from support.fault_proxy import aws_json_error, fault_proxy

    with moto_server() as moto, fault_proxy(moto.endpoint_url) as proxy:
        import boto3
        from botocore.config import Config

        logs = boto3.client(
            "logs",
            endpoint_url=proxy.url,
            region_name="us-east-1",
            config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
        )
        proxy.inject(400, aws_json_error("ThrottlingException"), match="CreateLogGroup")
        with pytest.raises(logs.exceptions.ClientError) as err:
            logs.create_log_group(logGroupName="/t")
        assert err.value.response["Error"]["Code"] == "ThrottlingException"
        logs.create_log_group(logGroupName="/t")
        assert proxy.injected == 1 and proxy.forwarded == 1


def test_alert_record_round_trip() -> None:
    from routewatch.exporters.alerts import Alert, alerts_from_request, alerts_to_request

    alert = Alert(
        alertname="RouteLatencyHigh",
        fingerprint="abc",
        status="resolved",
        severity="critical",
        labels={"hybrid_routing.route": "direct"},
        annotations={"summary": "p95 high"},
        starts_at=1_700_000_000.0,
        ends_at=1_700_000_060.0,
        value=16.5,
        threshold="> 15",
        exemplar_trace_ids=("0af7651916cd43dd8448eb211c80319c",),
        notification_id="abc-1",
    )
    assert list(alerts_from_request(alerts_to_request([alert], now=1_700_000_061.0))) == [alert]


def test_sqlite_storage_client(tmp_path: object) -> None:
    from routewatch.collector.storage import SQLiteStorageClient

    client = SQLiteStorageClient(f"{tmp_path}/s.db", "q")
    client.batch([("a_1", b"x"), ("a_2", b"y"), ("b", b"z")])
    client.delete("a_1")
    assert client.keys("a_") == ["a_2"] and client.get("b") == b"z" and client.get("a_1") is None
    client.close()
    assert SQLiteStorageClient(f"{tmp_path}/s.db", "q").get("a_2") == b"y"
