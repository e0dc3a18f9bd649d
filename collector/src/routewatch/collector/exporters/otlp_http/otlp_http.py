"""The OTLP/HTTP exporter (aiohttp client), with the Go otlphttpexporter's error handling:
429, 502, 503 and 504 are retryable and their Retry-After is honoured; network errors are
retryable; every other status is permanent. Partial success is logged, not retried.

With `encoding: proto`, requests that came as bytes (`Encoded`) are posted as those bytes."""

from __future__ import annotations

import asyncio
import email.utils
import time
import zlib
from collections.abc import Callable
from typing import Any

import aiohttp
from google.rpc import status_pb2

from routewatch.collector import otlpjson
from routewatch.collector.component import (
    CreateSettings,
    Data,
    Encoded,
    Host,
    Signal,
    message_of,
    wire_bytes,
)
from routewatch.collector.errors import PermanentError, RetryableError, ThrottledError
from routewatch.collector.exporters.otlp.tls import ssl_context
from routewatch.collector.exporters.otlp_http.config import OtlpHttpExporterConfig
from routewatch.collector.receivers.otlp.export import WIRES

RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
_CONTENT_TYPES = {"proto": "application/x-protobuf", "json": "application/json"}
# Level 6, zlib's default (and Go's gzip default).
_GZIP_LEVEL = 6
# How much of an error response body goes into the error message.
_MAX_ERROR_TEXT = 512


class OtlpHttpClient:
    def __init__(
        self,
        settings: CreateSettings,
        config: OtlpHttpExporterConfig,
        signal: Signal,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.config = config
        self.signal = signal
        self.url = config.url(signal)
        self._clock = clock
        self._session: aiohttp.ClientSession | None = None
        self._content_type = _CONTENT_TYPES[config.encoding]
        self._headers = {**config.headers, "Content-Type": self._content_type}
        if config.compression == "gzip":
            self._headers["Content-Encoding"] = "gzip"

    async def start(self, host: Host | None = None) -> None:
        ssl: Any = None
        if self.url.startswith("https://"):
            ssl = await asyncio.to_thread(ssl_context, self.config.tls)
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ssl))

    def _body(self, request: Data | Encoded) -> bytes:
        if self.config.encoding == "proto":
            raw = wire_bytes(request)
        else:
            raw = otlpjson.encode(message_of(request))
        if self.config.compression != "gzip":
            return raw
        compressor = zlib.compressobj(_GZIP_LEVEL, zlib.DEFLATED, 31)
        return compressor.compress(raw) + compressor.flush()

    async def push(self, data: Data | Encoded) -> None:
        if self._session is None:
            raise RuntimeError(f"exporter {self.settings.id}: push before start")
        timeout = aiohttp.ClientTimeout(total=float(self.config.timeout) or None)
        try:
            async with self._session.post(
                self.url, data=self._body(data), headers=self._headers, timeout=timeout
            ) as resp:
                payload = await resp.read()
                status, content_type = resp.status, resp.content_type
                retry_after = resp.headers.get("Retry-After")
        except (aiohttp.ClientError, TimeoutError) as err:
            raise RetryableError(f"failed to make an HTTP request: {err!r}") from None
        if 200 <= status < 300:
            self._log_partial_success(payload, content_type)
            return
        text = (
            f"error exporting items, request to {self.url} responded with HTTP Status Code {status}"
        )
        detail = _status_message(payload, content_type)
        if detail:
            text += f", Message={detail}"
        if status not in RETRYABLE_STATUSES:
            raise PermanentError(text)
        delay = parse_retry_after(retry_after, self._clock())
        if delay is not None:
            raise ThrottledError(text, retry_after=delay)
        raise RetryableError(text)

    def _log_partial_success(self, payload: bytes, content_type: str) -> None:
        if not payload:
            return
        wire = WIRES[self.signal]
        try:
            if content_type == "application/json":
                response = otlpjson.decode(payload, wire.response_type)
            else:
                response = wire.response_type.FromString(payload)
        except Exception:  # a success is a success even with an unreadable body
            return
        rejected = getattr(response.partial_success, wire.rejected_field)
        if rejected or response.partial_success.error_message:
            self.settings.logger.warning(
                "exporter %s: partial success: %d rejected: %s",
                self.settings.id,
                rejected,
                response.partial_success.error_message,
            )

    async def shutdown(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header: delay-seconds or an HTTP date (RFC 9110)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - now, 0.0)


def _status_message(payload: bytes, content_type: str) -> str:
    """The message of a google.rpc.Status body, else the start of the body as text."""
    if not payload:
        return ""
    try:
        if content_type == "application/json":
            return str(otlpjson.decode(payload, status_pb2.Status).message)
        if content_type == "application/x-protobuf":
            return str(status_pb2.Status.FromString(payload).message)
    except Exception:  # fall back to the raw text below
        pass
    return payload[:_MAX_ERROR_TEXT].decode("utf-8", "replace")
