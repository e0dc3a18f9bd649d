"""gRPC status -> permanent or retryable, as the Go otlpexporter decides.

Retryable: CANCELLED, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE, UNAVAILABLE, DATA_LOSS, and
RESOURCE_EXHAUSTED only when the server sent RetryInfo. A RetryInfo delay makes the error a
ThrottledError carrying it. Everything else is permanent.
"""

from __future__ import annotations

import grpc
from google.rpc import error_details_pb2, status_pb2

from routewatch.collector.errors import PermanentError, RetryableError, ThrottledError

RETRYABLE_CODES = frozenset(
    {
        grpc.StatusCode.CANCELLED,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.ABORTED,
        grpc.StatusCode.OUT_OF_RANGE,
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DATA_LOSS,
    }
)


def retry_delay(trailing_metadata: object) -> float | None:
    """Seconds of the RetryInfo in `grpc-status-details-bin`, if the server sent one."""
    for key, value in trailing_metadata or ():  # type: ignore[attr-defined]
        if key != "grpc-status-details-bin" or not isinstance(value, bytes):
            continue
        try:
            status = status_pb2.Status.FromString(value)
        except Exception:  # a peer's garbage must not hide the real error
            return None
        for detail in status.details:
            info = error_details_pb2.RetryInfo()
            if detail.Is(info.DESCRIPTOR) and detail.Unpack(info):
                return float(info.retry_delay.ToNanoseconds()) / 1e9
    return None


def classify(code: grpc.StatusCode, message: str, trailing_metadata: object) -> Exception:
    """The error to raise for a failed export with this status."""
    delay = retry_delay(trailing_metadata)
    text = f"rpc error: code = {code.name} desc = {message}"
    retryable = code in RETRYABLE_CODES or (
        code == grpc.StatusCode.RESOURCE_EXHAUSTED and delay is not None
    )
    if not retryable:
        return PermanentError(text)
    if delay:
        return ThrottledError(text, retry_after=delay)
    return RetryableError(text)
