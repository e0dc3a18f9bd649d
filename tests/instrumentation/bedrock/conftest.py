"""Fixtures for the Bedrock tests: SDK providers on in-memory exporters, the shared local
Bedrock server (and the stub for what it lacks), the instrumentor, and the sync/async drivers
of bedrock_harness.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from bedrock_harness import BEHAVIOUR, AsyncDriver, Driver, SyncDriver, Telemetry
from bedrock_stub import BedrockStub, bedrock_stub
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from routewatch.collector.devservers.bedrock import BedrockServer, bedrock_server
from routewatch.instrumentation import RoutewatchInstrumentor


@pytest.fixture
def telemetry() -> Iterator[Telemetry]:
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    yield Telemetry(exporter, reader, tracer_provider, meter_provider)
    meter_provider.shutdown()
    tracer_provider.shutdown()


@pytest.fixture(scope="session")
def server() -> Iterator[BedrockServer]:
    with bedrock_server(BEHAVIOUR) as running:
        yield running


@pytest.fixture(autouse=True)
def _clean_server(server: BedrockServer) -> None:
    server.reset()


@pytest.fixture(scope="session")
def stub() -> Iterator[BedrockStub]:
    with bedrock_stub() as running:
        yield running


@pytest.fixture(autouse=True)
def _clean_stub(stub: BedrockStub) -> None:
    stub.faults.clear()


@pytest.fixture
def instrument(telemetry: Telemetry) -> Iterator[Callable[..., RoutewatchInstrumentor]]:
    """instrument(**kwargs) instruments routewatch with the test providers; undone after."""
    instrumentor = RoutewatchInstrumentor()

    def start(**kwargs: Any) -> RoutewatchInstrumentor:
        kwargs.setdefault("tracer_provider", telemetry.tracer_provider)
        kwargs.setdefault("meter_provider", telemetry.meter_provider)
        instrumentor.instrument(**kwargs)
        return instrumentor

    yield start
    instrumentor.uninstrument()


@pytest.fixture
def instrumented(instrument: Callable[..., RoutewatchInstrumentor]) -> RoutewatchInstrumentor:
    return instrument()


@pytest.fixture(scope="session")
def sync_driver(server: BedrockServer) -> Iterator[SyncDriver]:
    # Clients are made once: creating one costs more than the calls of a test, and the
    # instrumentation patches the client class, so clients made before it are traced too.
    made = SyncDriver(server.url)
    yield made
    made.close()


@pytest.fixture(scope="session")
def async_driver(server: BedrockServer) -> Iterator[AsyncDriver]:
    made = AsyncDriver(server.url)
    yield made
    made.close()


@pytest.fixture(params=["sync", "async"])
def driver(request: pytest.FixtureRequest) -> Driver:
    """Parametrises a test over a boto3 client and an aiobotocore client."""
    made: Driver = request.getfixturevalue(f"{request.param}_driver")
    return made


@pytest.fixture(params=["sync", "async"])
def stub_driver(request: pytest.FixtureRequest, stub: BedrockStub) -> Iterator[Driver]:
    """A boto3 or an aiobotocore driver on the stub (for what the devserver lacks)."""
    made: Driver = (
        SyncDriver(stub.endpoint_url) if request.param == "sync" else AsyncDriver(stub.endpoint_url)
    )
    yield made
    made.close()
