"""The OTLP/gRPC exporter: one grpc.aio channel per exporter instance.

Requests that came as bytes (`Encoded`: a receiver's or the batch processor's) go out as those
bytes; messages are serialized by protobuf, never rebuilt.
"""

from __future__ import annotations

import logging
from typing import Any

import grpc

from routewatch.collector.component import (
    CreateSettings,
    Data,
    Encoded,
    Host,
    Signal,
    wire_bytes,
)
from routewatch.collector.exporters.otlp.config import OtlpExporterConfig
from routewatch.collector.exporters.otlp.grpc_status import classify
from routewatch.collector.exporters.otlp.tls import grpc_credentials
from routewatch.collector.receivers.otlp.export import WIRES

# The receiving side's limit is its business; ours must not refuse what the pipeline built.
_MAX_SEND_BYTES = 256 * 1024 * 1024


class OtlpGrpcClient:
    def __init__(self, settings: CreateSettings, config: OtlpExporterConfig, signal: Signal):
        self.settings = settings
        self.config = config
        self.signal = signal
        self._channel: grpc.aio.Channel | None = None
        self._export: Any = None
        self._metadata = tuple((k.lower(), v) for k, v in config.headers.items())
        self._log = settings.logger or logging.getLogger(__name__)

    async def start(self, host: Host | None = None) -> None:
        target, plaintext = self.config.target()
        options: list[tuple[str, Any]] = [("grpc.max_send_message_length", _MAX_SEND_BYTES)]
        if self.config.balancer_name:
            options.append(("grpc.lb_policy_name", self.config.balancer_name))
        if self.config.tls.server_name_override:
            options.append(("grpc.ssl_target_name_override", self.config.tls.server_name_override))
        compression = (
            grpc.Compression.Gzip
            if self.config.compression == "gzip"
            else grpc.Compression.NoCompression
        )
        if plaintext:
            channel = grpc.aio.insecure_channel(target, options, compression)
        else:
            credentials = grpc_credentials(self.config.tls)
            channel = grpc.aio.secure_channel(target, credentials, options, compression)
        wire = WIRES[self.signal]
        self._export = channel.unary_unary(
            f"/{wire.grpc_service}/Export",
            request_serializer=wire_bytes,
            response_deserializer=wire.response_type.FromString,
        )
        self._channel = channel

    async def push(self, data: Data | Encoded) -> None:
        if self._export is None:
            raise RuntimeError(f"exporter {self.settings.id}: push before start")
        timeout = float(self.config.timeout) or None
        try:
            response = await self._export(data, metadata=self._metadata, timeout=timeout)
        except grpc.aio.AioRpcError as err:
            raise classify(err.code(), err.details() or "", err.trailing_metadata()) from None
        partial = response.partial_success
        rejected = getattr(partial, WIRES[self.signal].rejected_field)
        if rejected or partial.error_message:
            # Not retryable (OTLP specification); logged as the Go exporter does.
            self._log.warning(
                "exporter %s: partial success: %d rejected: %s",
                self.settings.id,
                rejected,
                partial.error_message,
            )

    async def shutdown(self) -> None:
        channel, self._channel = self._channel, None
        self._export = None
        if channel is not None:
            await channel.close()
