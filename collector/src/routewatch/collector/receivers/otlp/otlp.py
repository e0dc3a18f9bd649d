"""The `otlp` receiver: one object per component id serving every signal configured for it.

The collector creates a receiver through the factory for the first pipeline signal of an id
and hands it the consumers of the other signals with `add_consumer` (no hidden global map of
receivers, unlike the Go factory). Both servers run on the collector's asyncio loop.
"""

from __future__ import annotations

import asyncio
from typing import Any

from routewatch.collector.component import Consumer, CreateSettings, Data, Host, Signal
from routewatch.collector.receivers.otlp.config import OtlpReceiverConfig
from routewatch.collector.receivers.otlp.export import export
from routewatch.collector.receivers.otlp.grpc_server import GrpcServer
from routewatch.collector.receivers.otlp.http_server import HttpServer

# How long in-flight gRPC calls may finish on shutdown before they are cancelled.
SHUTDOWN_GRACE_S = 5.0


class OtlpReceiver:
    def __init__(self, settings: CreateSettings, config: OtlpReceiverConfig) -> None:
        self.settings = settings
        self.config = config
        self._consumers: dict[Signal, Consumer] = {}
        self.grpc: GrpcServer | None = None
        self.http: HttpServer | None = None
        self._lock = asyncio.Lock()

    def add_consumer(self, signal: Signal, consumer: Consumer) -> None:
        """Serve `signal`, handing its requests to `consumer`. Before `start` only."""
        if self.grpc is not None or self.http is not None:
            raise RuntimeError(f"receiver {self.settings.id}: add_consumer after start")
        self._consumers[Signal(signal)] = consumer

    @property
    def signals(self) -> list[Signal]:
        return list(self._consumers)

    async def _export(
        self, signal: Signal, request: Data, transport: str, raw: bytes | None
    ) -> Any:
        return await export(self.settings, self._consumers[signal], signal, request, transport, raw)

    async def start(self, host: Host | None = None) -> None:
        async with self._lock:
            protocols = self.config.protocols
            try:
                if protocols.grpc.enabled:
                    self.grpc = GrpcServer(protocols.grpc, self._export, self.signals)
                    await self.grpc.start()
                if protocols.http.enabled:
                    self.http = HttpServer(protocols.http, self._export, self.signals)
                    await self.http.start()
            except BaseException:
                # Roll back a partial start: a gRPC server must not outlive a failed HTTP bind.
                await self._stop()
                raise
        self.settings.logger.info(
            "otlp receiver %s started (grpc=%s, http=%s)",
            self.settings.id,
            self.config.protocols.grpc.endpoint if self.grpc else "off",
            self.config.protocols.http.endpoint if self.http else "off",
        )

    async def shutdown(self) -> None:
        async with self._lock:
            await self._stop()

    async def _stop(self) -> None:
        grpc_server, self.grpc = self.grpc, None
        http_server, self.http = self.http, None
        if http_server is not None:
            await http_server.stop()
        if grpc_server is not None:
            await grpc_server.stop(SHUTDOWN_GRACE_S)
