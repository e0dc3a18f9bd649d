"""What both transports share: the per-signal wire types, handing a parsed request (and the
protobuf bytes it was parsed from, for consumers that forward them) to the next consumer, and
mapping the consumer's errors to OTLP status codes.

Error mapping (OTLP specification, "Failures"; the Go otlpreceiver's internal/errors):

| consumer raised        | gRPC                           | HTTP                 |
|------------------------|--------------------------------|----------------------|
| PermanentError         | INVALID_ARGUMENT               | 400                  |
| ThrottledError         | UNAVAILABLE + RetryInfo        | 429 + Retry-After    |
| RetryableError / other | UNAVAILABLE + RetryInfo        | 503 + Retry-After    |
| PartialSuccessError    | OK + partial_success           | 200 + partialSuccess |

gRPC answers UNAVAILABLE for throttling too: every OTLP client retries it, while
RESOURCE_EXHAUSTED is retryable only for clients that read RetryInfo and is kept for "too large".
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf import duration_pb2
from google.protobuf.any_pb2 import Any as AnyProto
from google.rpc import error_details_pb2, status_pb2
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from routewatch.collector.component import (
    Consumer,
    CreateSettings,
    Data,
    Encoded,
    Signal,
    deliver,
)
from routewatch.collector.errors import (
    PartialSuccessError,
    PermanentError,
    RetryableError,
    ThrottledError,
)
from routewatch.collector.obsreport import count_items, receiver_result

# Retry delay suggested to clients when the consumer did not say how long to wait.
DEFAULT_RETRY_AFTER_S = 1.0


@dataclass(frozen=True)
class SignalWire:
    signal: Signal
    request_type: Any
    response_type: Any
    grpc_service: str
    # Field of the response's partial_success that counts rejected items.
    rejected_field: str


WIRES: dict[Signal, SignalWire] = {
    Signal.TRACES: SignalWire(
        Signal.TRACES,
        trace_service_pb2.ExportTraceServiceRequest,
        trace_service_pb2.ExportTraceServiceResponse,
        "opentelemetry.proto.collector.trace.v1.TraceService",
        "rejected_spans",
    ),
    Signal.METRICS: SignalWire(
        Signal.METRICS,
        metrics_service_pb2.ExportMetricsServiceRequest,
        metrics_service_pb2.ExportMetricsServiceResponse,
        "opentelemetry.proto.collector.metrics.v1.MetricsService",
        "rejected_data_points",
    ),
    Signal.LOGS: SignalWire(
        Signal.LOGS,
        logs_service_pb2.ExportLogsServiceRequest,
        logs_service_pb2.ExportLogsServiceResponse,
        "opentelemetry.proto.collector.logs.v1.LogsService",
        "rejected_log_records",
    ),
}

# (signal, parsed request, transport, protobuf bytes or None) -> response message; raises the
# consumer's error.
ExportFunc = Callable[[Signal, Data, str, bytes | None], Awaitable[Any]]


async def export(
    settings: CreateSettings,
    consumer: Consumer,
    signal: Signal,
    request: Data,
    transport: str,
    raw: bytes | None = None,
) -> Any:
    """Hand `request` to `consumer` and build the OTLP response; counts accepted/refused.

    `raw` is the protobuf `request` was parsed from (None for JSON): a consumer that forwards
    bytes gets them instead of the message.
    """
    wire = WIRES[signal]
    response = wire.response_type()
    count = count_items(signal, request)
    if count == 0:
        # As the Go receiver: an empty request is a success and reaches no consumer.
        return response
    try:
        await deliver(consumer, request, None if raw is None else Encoded(signal, raw, count))
    except PartialSuccessError as err:
        rejected = min(max(err.rejected, 0), count)
        _count(settings, transport, signal, count - rejected)
        _count(settings, transport, signal, rejected, err)
        setattr(response.partial_success, wire.rejected_field, rejected)
        response.partial_success.error_message = err.message
        return response
    except BaseException as err:
        _count(settings, transport, signal, count, err)
        raise
    _count(settings, transport, signal, count)
    return response


def _count(
    settings: CreateSettings,
    transport: str,
    signal: Signal,
    count: int,
    err: BaseException | None = None,
) -> None:
    if count:
        receiver_result(settings.telemetry, settings.id, transport, signal, count, err)


@dataclass(frozen=True)
class WireError:
    grpc_code: grpc.StatusCode
    http_status: int
    message: str
    # Seconds for RetryInfo / Retry-After; None for errors not worth retrying.
    retry_after: float | None = None


def wire_error(err: BaseException) -> WireError:
    """The status codes for a consumer error (see the module docstring)."""
    message = str(err) or type(err).__name__
    if isinstance(err, PermanentError):
        return WireError(grpc.StatusCode.INVALID_ARGUMENT, 400, message)
    delay = DEFAULT_RETRY_AFTER_S
    if isinstance(err, RetryableError) and err.retry_after is not None:
        delay = max(err.retry_after, 0.0)
    status = 429 if isinstance(err, ThrottledError) else 503
    return WireError(grpc.StatusCode.UNAVAILABLE, status, message, delay)


def retry_after_header(seconds: float) -> str:
    """Retry-After takes whole seconds; round up so that clients never come back early."""
    return str(max(1, math.ceil(seconds)))


def retry_info(seconds: float) -> error_details_pb2.RetryInfo:
    whole = int(seconds)
    return error_details_pb2.RetryInfo(
        retry_delay=duration_pb2.Duration(seconds=whole, nanos=int((seconds - whole) * 1e9))
    )


def rpc_status(code: grpc.StatusCode, message: str, retry_after: float | None = None) -> Any:
    """A google.rpc.Status, with RetryInfo in its details when a delay is given."""
    status = status_pb2.Status(code=code.value[0], message=message)
    if retry_after is not None:
        detail = AnyProto()
        detail.Pack(retry_info(retry_after))
        status.details.append(detail)
    return status
