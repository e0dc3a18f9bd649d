"""The OTLP/HTTP server (aiohttp): POST protobuf or JSON to the configured paths.

Answers as the Go otlpreceiver does: 405 and 415 as text/plain; every other error as a
google.rpc.Status in the request's content type; the Export response in the request's content
type. aiohttp's own request decompression is off: `body.decompress` inflates under the limit.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from typing import Any

import grpc
from aiohttp import web
from google.protobuf.message import DecodeError

from routewatch.collector import otlpjson
from routewatch.collector.component import Signal
from routewatch.collector.receivers.otlp.auth import authorized
from routewatch.collector.receivers.otlp.body import (
    BadBody,
    BodyTooLarge,
    decompress,
    read_limited,
)
from routewatch.collector.receivers.otlp.config import HttpServerConfig, split_endpoint
from routewatch.collector.receivers.otlp.export import (
    WIRES,
    ExportFunc,
    retry_after_header,
    rpc_status,
    wire_error,
)

TRANSPORT = "http"
PROTOBUF = "application/x-protobuf"
JSON = "application/json"


class HttpServer:
    def __init__(self, config: HttpServerConfig, export: ExportFunc, signals: Iterable[Signal]):
        self._config = config
        self._export = export
        self._signals = list(signals)
        self._runner: web.AppRunner | None = None
        self.port = 0

    def _paths(self) -> dict[Signal, str]:
        c = self._config
        return {
            Signal.TRACES: c.traces_url_path,
            Signal.METRICS: c.metrics_url_path,
            Signal.LOGS: c.logs_url_path,
        }

    async def start(self) -> None:
        app = web.Application(client_max_size=self._config.max_request_body_size)
        paths = self._paths()
        for signal in self._signals:
            app.router.add_route("*", paths[signal], self._handler(signal))
        runner = web.AppRunner(app, access_log=None, auto_decompress=False, handle_signals=False)
        await runner.setup()
        host, port = split_endpoint(self._config.endpoint)
        site = web.TCPSite(runner, host, port, ssl_context=self._ssl_context())
        try:
            await site.start()
        except OSError as err:
            await runner.cleanup()
            raise OSError(
                f"otlp receiver: cannot listen on {self._config.endpoint} (http): {err}"
            ) from err
        self._runner = runner
        # The bound port (differs from the configured one when that is 0).
        self.port = int(runner.addresses[0][1]) if runner.addresses else port

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    def _ssl_context(self) -> ssl.SSLContext | None:
        tls = self._config.tls
        if not tls.enabled:
            return None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(tls.cert_file, tls.key_file)
        if tls.client_ca_file:
            context.load_verify_locations(tls.client_ca_file)
            context.verify_mode = ssl.CERT_REQUIRED
        return context

    def _handler(self, signal: Signal) -> Any:
        request_type = WIRES[signal].request_type
        limit = self._config.max_request_body_size
        token = self._config.auth.bearer_token
        export = self._export

        async def handle(request: web.Request) -> web.StreamResponse:
            mime = request.content_type
            if token and not authorized(token, request.headers.get("Authorization")):
                return _status_response(mime, 401, grpc.StatusCode.UNAUTHENTICATED, "Unauthorized")
            if request.method != "POST":
                return web.Response(
                    status=405,
                    text="405 method not allowed, supported: [POST]",
                    headers={"Allow": "POST"},
                )
            if mime not in (PROTOBUF, JSON):
                return web.Response(
                    status=415,
                    text=f"415 unsupported media type, supported: [{JSON}, {PROTOBUF}]",
                )
            try:
                if request.content_length is not None and request.content_length > limit:
                    raise BodyTooLarge(limit)
                raw = await read_limited(request.content.iter_any(), limit)
                body = decompress(raw, request.headers.get("Content-Encoding", ""), limit)
            except BodyTooLarge as err:
                return _status_response(mime, 413, grpc.StatusCode.RESOURCE_EXHAUSTED, str(err))
            except BadBody as err:
                return _status_response(mime, 400, grpc.StatusCode.INVALID_ARGUMENT, str(err))
            protobuf: bytes | None = None
            try:
                if mime == PROTOBUF:
                    message, protobuf = request_type.FromString(body), body
                else:
                    message = otlpjson.decode(body, request_type)
            except (DecodeError, otlpjson.OtlpJsonError) as err:
                return _status_response(
                    mime, 400, grpc.StatusCode.INVALID_ARGUMENT, f"cannot unmarshal request: {err}"
                )
            try:
                response = await export(signal, message, TRANSPORT, protobuf)
            except Exception as err:
                failure = wire_error(err)
                headers = {}
                if failure.retry_after is not None:
                    headers["Retry-After"] = retry_after_header(failure.retry_after)
                return _status_response(
                    mime, failure.http_status, failure.grpc_code, failure.message, headers
                )
            return web.Response(body=_encode(mime, response), content_type=mime)

        return handle


def _encode(mime: str, message: Any) -> bytes:
    if mime == PROTOBUF:
        result: bytes = message.SerializeToString()
        return result
    return otlpjson.encode(message)


def _status_response(
    mime: str,
    http_status: int,
    code: grpc.StatusCode,
    message: str,
    headers: dict[str, str] | None = None,
) -> web.Response:
    """An error as a google.rpc.Status body in the request's content type (JSON otherwise)."""
    status = rpc_status(code, message)
    if mime != PROTOBUF:
        mime = JSON
    return web.Response(
        status=http_status, body=_encode(mime, status), content_type=mime, headers=headers
    )
