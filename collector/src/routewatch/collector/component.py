"""The component model, after the OpenTelemetry Collector's `component` package.

A component is built by a `Factory` from a config dataclass. Data moves between components as
OTLP protobuf request messages (`ExportTraceServiceRequest`, `ExportMetricsServiceRequest`,
`ExportLogsServiceRequest`): receivers parse once and nothing converts on the way through.

Beside the message, a request may travel as the bytes it arrived as (`Encoded`), so that an
exporter speaking OTLP forwards them without serializing again. A consumer opts in by having
`consume_encoded(encoded)` (same error contract as `consume`); a consumer that mutates data, or
reads it, does not, and gets a message. This is the Go collector's `Capabilities.MutatesData`
turned around: bytes only go to those who declare they can use them, so no component ever
sees bytes that a mutation upstream left stale. `deliver(consumer, data, encoded)` picks the
form; use it rather than calling `consume_encoded` directly.

Lifecycle contract (as in the Go collector's component.go):
- `start(host)` returns quickly; background work runs on tasks the component owns.
- `shutdown()` stops that work and flushes; it is safe without `start` and safe twice.
- `consume(data)` returns when the data is accepted (queued or delivered). It raises
  `PermanentError` for data that can never be accepted (never retried; HTTP 400) and any other
  exception, `RetryableError` with an optional delay included, for "try again" (HTTP 503/429,
  gRPC UNAVAILABLE). A consumer must not keep a reference to `data` after raising; after
  returning it owns it, and the caller must not mutate it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, runtime_checkable

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

if TYPE_CHECKING:
    from routewatch.collector.telemetry import Telemetry

Data: TypeAlias = ExportTraceServiceRequest | ExportMetricsServiceRequest | ExportLogsServiceRequest


class Signal(StrEnum):
    TRACES = "traces"
    METRICS = "metrics"
    LOGS = "logs"


REQUEST_TYPES: Mapping[Signal, type[Data]] = {
    Signal.TRACES: ExportTraceServiceRequest,
    Signal.METRICS: ExportMetricsServiceRequest,
    Signal.LOGS: ExportLogsServiceRequest,
}


class Kind(StrEnum):
    RECEIVER = "receiver"
    PROCESSOR = "processor"
    EXPORTER = "exporter"
    CONNECTOR = "connector"
    EXTENSION = "extension"


class Stability(StrEnum):
    DEVELOPMENT = "development"
    ALPHA = "alpha"
    BETA = "beta"
    STABLE = "stable"


_TYPE_RE = re.compile(r"^[a-zA-Z][0-9a-zA-Z_]{0,62}$")
_NAME_RE = re.compile(r"^[^\s/]{1,1024}$")


@dataclass(frozen=True, order=True)
class ComponentID:
    """`type[/name]`, e.g. `otlp`, `otlp/backup`."""

    type: str
    name: str = ""

    @classmethod
    def parse(cls, text: str) -> ComponentID:
        """Parse `type[/name]`; ValueError with the Go collector's wording when invalid."""
        type_, sep, name = text.strip().partition("/")
        if not _TYPE_RE.match(type_):
            raise ValueError(
                f"invalid character(s) in type {type_!r}"
                if type_
                else f"id {text!r}: the part before / should not be empty"
            )
        if sep and not name:
            raise ValueError(f"id {text!r}: the part after / should not be empty")
        if name and not _NAME_RE.match(name):
            raise ValueError(f"invalid character(s) in name {name!r}")
        return cls(type_, name)

    def __str__(self) -> str:
        return f"{self.type}/{self.name}" if self.name else self.type


@dataclass(frozen=True, slots=True)
class Encoded:
    """One OTLP export request in its wire form.

    `payload` is a serialized `Export*ServiceRequest` exactly as received (after gzip
    decoding); serialized requests of one signal concatenate into a valid request whose
    resource lists are appended, which is how the batch processor merges them. `items` counts
    spans, metric data points or log records as `obsreport.count_items` does.
    """

    signal: Signal
    payload: bytes
    items: int

    def decode(self) -> Data:
        """A new message parsed from `payload` on every call (nothing cached, nothing shared:
        the caller owns it and may mutate it). Raises protobuf's DecodeError on bad bytes."""
        return REQUEST_TYPES[self.signal].FromString(self.payload)


def wire_bytes(request: Data | Encoded) -> bytes:
    """A request's wire form: the bytes it came as, or its message serialised."""
    return request.payload if isinstance(request, Encoded) else request.SerializeToString()


def message_of(request: Data | Encoded) -> Data:
    """A request's message: parsed anew from its bytes (see `Encoded.decode`), or itself."""
    return request.decode() if isinstance(request, Encoded) else request


@runtime_checkable
class Consumer(Protocol):
    async def consume(self, data: Data) -> None: ...


def accepts_encoded(consumer: Consumer) -> bool:
    """Whether `consumer` takes requests as `Encoded` (has `consume_encoded`)."""
    return hasattr(consumer, "consume_encoded")


def needs_message(consumer: Consumer) -> bool:
    """Whether `consumer` needs the message even when the bytes are at hand: it does not take
    bytes, or it forwards to something that does not (its `needs_message` attribute)."""
    return bool(getattr(consumer, "needs_message", not accepts_encoded(consumer)))


async def deliver(consumer: Consumer, data: Data | None, encoded: Encoded | None) -> None:
    """Hand one request to `consumer` in the form it takes.

    Give whichever forms are at hand (at least one): the bytes go to a consumer with
    `consume_encoded`, the message to any other (decoded here when only the bytes are at
    hand). A forwarding consumer with `forward(data, encoded)` (fan-out, signal routing,
    memory_limiter) gets both, so that what is behind it is served without parsing twice; it
    says with a `needs_message` attribute whether it will need the message.
    """
    forward = getattr(consumer, "forward", None)
    if forward is not None:
        await forward(data, encoded)
        return
    if encoded is not None:
        consume_encoded = getattr(consumer, "consume_encoded", None)
        if consume_encoded is not None:
            await consume_encoded(encoded)
            return
        if data is None:
            data = encoded.decode()
    assert data is not None, "deliver() needs the message or its bytes"
    await consumer.consume(data)


class Forwarder:
    """Base of a consumer that only passes requests on (fan-out, signal routing,
    memory_limiter): both `consume` and `consume_encoded` come to `forward(data, encoded)`,
    which `deliver` also calls with both forms at hand. A subclass defines `forward` and a
    `needs_message` attribute or property (see `needs_message()`)."""

    async def forward(self, data: Data | None, encoded: Encoded | None) -> None:
        raise NotImplementedError

    async def consume(self, data: Data) -> None:
        await self.forward(data, None)

    async def consume_encoded(self, encoded: Encoded) -> None:
        await self.forward(None, encoded)


class Host(Protocol):
    """What a started component may ask of the running collector."""

    def get_extension(self, id: ComponentID) -> Component | None: ...


@runtime_checkable
class Component(Protocol):
    async def start(self, host: Host) -> None: ...

    async def shutdown(self) -> None: ...


@dataclass
class CreateSettings:
    """Passed to every create function."""

    id: ComponentID
    kind: Kind
    telemetry: Telemetry
    logger: logging.Logger = field(default_factory=lambda: logging.getLogger("routewatch"))
    # The signal of the pipeline the component is created for (for connectors: the input).
    # None for a receiver that serves several signals.
    signal: Signal | None = None
    # How long `shutdown()` may spend draining queues before leaving the rest (persistent
    # queues keep it on disk for the next start).
    shutdown_timeout: float = 10.0

    @property
    def attributes(self) -> dict[str, str]:
        """Labels for self-telemetry, named as the Go collector names them."""
        return {self.kind.value: str(self.id)}


# create(settings, config, next_consumer) -> component. Exporters get next_consumer=None.
# A receiver is created ONCE per id, through the create function of the first signal it serves
# (traces, metrics, logs order); its next_consumer is then a `service.fanout.SignalRouter` that
# routes each request by its type and whose `signals` says which signals have pipelines. A
# receiver that has `add_consumer(signal, consumer)` is also given each other signal's consumer
# through it, right after creation.
CreateFunc = Callable[[CreateSettings, Any, Consumer | None], Any]
CreateExtensionFunc = Callable[[CreateSettings, Any], Any]


@dataclass(frozen=True)
class Factory:
    """Declares a component type, as the Go collector's `NewFactory(type, default, With...)`.

    For receivers, processors and exporters `create` is keyed by signal; for connectors by
    (input signal, output signal); extensions use `create_extension`.
    """

    type: str
    kind: Kind
    create_default_config: Callable[[], Any]
    create: Mapping[Any, CreateFunc] = field(default_factory=dict)
    stability: Mapping[Any, Stability] = field(default_factory=dict)
    create_extension: CreateExtensionFunc | None = None

    def signals(self) -> list[Any]:
        return list(self.create)
