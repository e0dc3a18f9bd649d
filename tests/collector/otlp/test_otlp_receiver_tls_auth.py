"""TLS and bearer-token auth on both transports, with real clients: accepted with the right
certificate and token, refused otherwise."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import aiohttp
import grpc
import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpans
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpans
from otlp_testkit import TRACE_METHOD, Recorder, SdkData, StartReceiver, self_signed_cert

from routewatch.collector.component import Signal
from routewatch.collector.errors import ConfigError

TOKEN = "s3cret-token"


async def test_grpc_tls_and_bearer_token(
    start_receiver: StartReceiver, sdk_data: SdkData, tmp_path: Path
) -> None:
    cert, key = self_signed_cert(tmp_path)
    recorder = Recorder()
    receiver = await start_receiver(
        recorder,
        grpc={
            "tls": {"cert_file": str(cert), "key_file": str(key)},
            "auth": {"bearer_token": TOKEN},
        },
    )
    assert receiver.grpc is not None
    address = f"127.0.0.1:{receiver.grpc.port}"
    credentials = grpc.ssl_channel_credentials(root_certificates=cert.read_bytes())

    exporter = GrpcSpans(
        endpoint=address, credentials=credentials, headers={"authorization": f"Bearer {TOKEN}"}
    )
    try:
        result = await asyncio.to_thread(exporter.export, sdk_data.spans)
    finally:
        exporter.shutdown()
    assert result.name == "SUCCESS"
    assert recorder.received == [sdk_data.requests[Signal.TRACES]]

    payload = sdk_data.requests[Signal.TRACES].SerializeToString()
    async with grpc.aio.secure_channel(address, credentials) as channel:
        export = channel.unary_unary(TRACE_METHOD)
        for metadata in [(("authorization", "Bearer wrong"),), (), (("authorization", TOKEN),)]:
            try:
                await export(payload, metadata=metadata)
                raise AssertionError("accepted without the token")
            except grpc.aio.AioRpcError as err:
                assert err.code() == grpc.StatusCode.UNAUTHENTICATED
    async with grpc.aio.insecure_channel(address) as channel:
        try:
            await channel.unary_unary(TRACE_METHOD)(
                payload, metadata=(("authorization", f"Bearer {TOKEN}"),), timeout=5
            )
            raise AssertionError("accepted plaintext on a TLS port")
        except grpc.aio.AioRpcError as err:
            assert err.code() == grpc.StatusCode.UNAVAILABLE
    assert len(recorder.received) == 1


async def test_http_tls_and_bearer_token(
    start_receiver: StartReceiver,
    sdk_data: SdkData,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # requests lets these variables override the exporter's own CA file (psf/requests#3829).
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    cert, key = self_signed_cert(tmp_path)
    recorder = Recorder()
    receiver = await start_receiver(
        recorder,
        http={
            "tls": {"cert_file": str(cert), "key_file": str(key)},
            "auth": {"bearer_token": TOKEN},
        },
    )
    assert receiver.http is not None
    url = f"https://127.0.0.1:{receiver.http.port}/v1/traces"

    exporter = HttpSpans(
        endpoint=url, certificate_file=str(cert), headers={"Authorization": f"Bearer {TOKEN}"}
    )
    try:
        result = await asyncio.to_thread(exporter.export, sdk_data.spans)
    finally:
        exporter.shutdown()
    assert result.name == "SUCCESS"
    assert recorder.received == [sdk_data.requests[Signal.TRACES]]

    payload = sdk_data.requests[Signal.TRACES].SerializeToString()
    context = ssl.create_default_context(cafile=str(cert))
    async with aiohttp.ClientSession() as session:
        for headers in [{"Authorization": "Bearer wrong"}, {}, {"Authorization": f"Basic {TOKEN}"}]:
            async with session.post(
                url,
                data=payload,
                ssl=context,
                headers={"Content-Type": "application/x-protobuf", **headers},
            ) as resp:
                assert resp.status == 401
        try:
            async with session.post(url, data=payload, ssl=ssl.create_default_context()) as resp:
                raise AssertionError(f"an untrusted certificate was accepted: {resp.status}")
        except aiohttp.ClientConnectorCertificateError:
            pass
    assert len(recorder.received) == 1


async def test_tls_config_needs_both_files(start_receiver: StartReceiver) -> None:
    with pytest.raises(ConfigError, match=r"receivers::otlp::protocols::grpc::tls: .*key_file"):
        await start_receiver(Recorder(), grpc={"tls": {"cert_file": "x.crt"}})
