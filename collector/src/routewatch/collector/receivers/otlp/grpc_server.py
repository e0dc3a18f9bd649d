"""The OTLP/gRPC server: a grpc.aio server with the three Export services.

Handlers take the raw request bytes and parse them once with `FromString`, so that a
malformed message is answered INVALID_ARGUMENT (grpc's own deserializer failure would be
INTERNAL); the bytes go along for consumers that forward them. Size limits and gzip request
compression are grpc's own.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import grpc
from google.protobuf.message import DecodeError

from routewatch.collector.component import Signal
from routewatch.collector.receivers.otlp.auth import authorized
from routewatch.collector.receivers.otlp.config import (
    GrpcServerConfig,
    ServerTLSConfig,
    split_endpoint,
)
from routewatch.collector.receivers.otlp.export import (
    WIRES,
    ExportFunc,
    retry_info,
    rpc_status,
    wire_error,
)

TRANSPORT = "grpc"
# Where the OpenTelemetry Python SDK's gRPC exporter looks for RetryInfo (it does not read
# grpc-status-details-bin); sent besides the standard trailer so that it honours the delay.
_PYTHON_SDK_RETRY_INFO_KEY = "google.rpc.retryinfo-bin"


class GrpcServer:
    def __init__(self, config: GrpcServerConfig, export: ExportFunc, signals: Iterable[Signal]):
        self._config = config
        self._export = export
        self._signals = list(signals)
        self._server: grpc.aio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        limit = self._config.max_recv_msg_size_mib * 1024 * 1024
        server = grpc.aio.server(options=[("grpc.max_receive_message_length", limit)])
        for signal in self._signals:
            handler = grpc.unary_unary_rpc_method_handler(self._handler(signal))
            service = grpc.method_handlers_generic_handler(
                WIRES[signal].grpc_service, {"Export": handler}
            )
            server.add_generic_rpc_handlers((service,))
        host, port = split_endpoint(self._config.endpoint)
        address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        tls = self._config.tls
        try:
            if tls.enabled:
                self.port = server.add_secure_port(address, _server_credentials(tls))
            else:
                self.port = server.add_insecure_port(address)
        except RuntimeError as err:
            await server.stop(None)
            raise OSError(f"otlp receiver: cannot listen on {address} (grpc): {err}") from err
        if not self.port:
            await server.stop(None)
            raise OSError(f"otlp receiver: cannot listen on {address} (grpc)")
        await server.start()
        self._server = server

    async def stop(self, grace: float | None = None) -> None:
        server, self._server = self._server, None
        if server is not None:
            await server.stop(grace)

    def _handler(self, signal: Signal) -> Any:
        request_type = WIRES[signal].request_type
        token = self._config.auth.bearer_token
        export = self._export

        async def handle(raw: bytes, context: grpc.aio.ServicerContext) -> bytes:
            if token:
                metadata = dict(context.invocation_metadata() or ())
                if not authorized(token, _text(metadata.get("authorization"))):
                    await context.abort(grpc.StatusCode.UNAUTHENTICATED, "missing or bad token")
            try:
                request = request_type.FromString(raw)
            except DecodeError as err:
                await context.abort(
                    grpc.StatusCode.INVALID_ARGUMENT, f"cannot unmarshal request: {err}"
                )
            try:
                response = await export(signal, request, TRANSPORT, raw)
            except Exception as err:
                failure = wire_error(err)
                trailers: tuple[tuple[str, bytes], ...] = ()
                if failure.retry_after is not None:
                    status = rpc_status(failure.grpc_code, failure.message, failure.retry_after)
                    trailers = (
                        ("grpc-status-details-bin", status.SerializeToString()),
                        (
                            _PYTHON_SDK_RETRY_INFO_KEY,
                            retry_info(failure.retry_after).SerializeToString(),
                        ),
                    )
                await context.abort(failure.grpc_code, failure.message, trailers)
            result: bytes = response.SerializeToString()
            return result

        return handle


def _server_credentials(tls: ServerTLSConfig) -> grpc.ServerCredentials:
    key, cert = Path(tls.key_file).read_bytes(), Path(tls.cert_file).read_bytes()
    client_ca = Path(tls.client_ca_file).read_bytes() if tls.client_ca_file else None
    return grpc.ssl_server_credentials(
        [(key, cert)], root_certificates=client_ca, require_client_auth=client_ca is not None
    )


def _text(value: str | bytes | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value
