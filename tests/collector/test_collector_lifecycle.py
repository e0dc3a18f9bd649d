"""create -> start -> consume -> shutdown (twice), and shutdown without start, for every
component the registry can load (the built-ins present plus the test components).

A component whose default config is not startable here gets its settings in OVERRIDES.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from rw_testcomponents import StubHost, logs, make_registry, metrics, settings, traces
from support.ports import free_port

from routewatch.collector.component import Data, Factory, Kind, Signal
from routewatch.collector.confmap import decode
from routewatch.collector.service.fanout import SignalRouter

REQUESTS: dict[Signal, Callable[[], Data]] = {
    Signal.TRACES: lambda: traces(3),
    Signal.METRICS: lambda: metrics(["m"], points=2),
    Signal.LOGS: lambda: logs(2),
}

# type (or "kind-type") -> function(tmp_path) -> raw config overlaid on the default.
OVERRIDES: dict[str, Callable[[Path], dict[str, Any]]] = {
    "memory_limiter": lambda tmp: {"limit_mib": 1_000_000},
    "file_storage": lambda tmp: {"directory": str(tmp)},
    "health_check": lambda tmp: {"endpoint": f"127.0.0.1:{free_port()}"},
    "file_out": lambda tmp: {"path": str(tmp / "out.jsonl")},
    # Built-ins of the other branches (collector-int glue): nothing listens on port 1.
    "receiver-otlp": lambda tmp: {
        "protocols": {
            "grpc": {"endpoint": f"127.0.0.1:{free_port()}"},
            "http": {"endpoint": f"127.0.0.1:{free_port()}"},
        }
    },
    "exporter-otlp": lambda tmp: {"endpoint": "127.0.0.1:1"},
    "otlp_grpc": lambda tmp: {"endpoint": "127.0.0.1:1"},
    "otlp_http": lambda tmp: {"endpoint": "http://127.0.0.1:1"},
    "file": lambda tmp: {"path": str(tmp / "file.jsonl")},
    "pagerduty": lambda tmp: {"routing_key": "x" * 32, "url": "http://127.0.0.1:1/v2/enqueue"},
    "sns": lambda tmp: {"topic_arn": "arn:aws:sns:us-east-1:123456789012:t"},
    # A file, not CloudWatch: nothing here may depend on AWS settings of the environment.
    "awsemf": lambda tmp: {"output_destination": "file", "file_path": str(tmp / "emf.jsonl")},
}
# Test components built to fail at start.
SKIP = {"fail_start"}


class Sink:
    def __init__(self) -> None:
        self.received: list[Data] = []

    async def consume(self, data: Data) -> None:
        self.received.append(data)


def _cases() -> Iterator[Any]:
    registry = make_registry()
    for kind in Kind:
        for type_ in registry.types(kind):
            factory = registry.factory(kind, type_)
            if type_ in SKIP or factory is None:
                continue
            yield pytest.param(factory, type_, id=f"{kind.value}-{type_}")


def _config(factory: Factory, type_: str, tmp: Path) -> Any:
    default = factory.create_default_config()
    # "kind-type" keys tell apart types both kinds have (the otlp receiver and exporter).
    override = OVERRIDES.get(f"{factory.kind.value}-{type_}", OVERRIDES.get(type_))
    raw = (override or (lambda _: {}))(tmp)
    if dataclasses.is_dataclass(default) and not isinstance(default, type):
        return decode(type(default), raw, type_, base=default)
    return default


def _instances(factory: Factory, type_: str, tmp: Path) -> Iterator[tuple[Any, list[Signal]]]:
    """Each instance to test, with the signals it consumes."""
    config = _config(factory, type_, tmp)
    kind = factory.kind
    if kind is Kind.EXTENSION:
        assert factory.create_extension is not None
        yield factory.create_extension(settings(type_, kind, shutdown_timeout=0.5), config), []
        return
    if kind is Kind.RECEIVER:
        router = SignalRouter({s: Sink() for s in factory.create})
        first = next(iter(factory.create))
        create = factory.create[first]
        yield create(settings(type_, kind, shutdown_timeout=0.5), config, router), []
        return
    for key, create in factory.create.items():
        in_signal = key[0] if isinstance(key, tuple) else key
        next_consumer = None if kind is Kind.EXPORTER else Sink()
        component = create(
            settings(type_, kind, signal=in_signal, shutdown_timeout=0.5), config, next_consumer
        )
        yield component, [in_signal]


@pytest.mark.parametrize(("factory", "type_"), list(_cases()))
async def test_lifecycle(factory: Factory, type_: str, tmp_path: Path) -> None:
    host = StubHost()
    for component, signals in _instances(factory, type_, tmp_path):
        await component.start(host)
        for signal in signals:
            await component.consume(REQUESTS[signal]())
        await component.shutdown()
        await component.shutdown()
    for component, _ in _instances(factory, type_, tmp_path):
        await component.shutdown()


def test_every_builtin_of_this_branch_is_covered() -> None:
    names = {p.id for p in _cases()}
    assert {
        "processor-batch",
        "processor-memory_limiter",
        "extension-file_storage",
        "extension-health_check",
        "receiver-push",
        "exporter-record",
        "connector-to_logs",
    } <= names
