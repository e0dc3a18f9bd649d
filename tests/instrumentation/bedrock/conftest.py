"""Fixtures for the Bedrock tests: SDK providers on in-memory exporters, the local Bedrock
server, the instrumentor, and sync/async drivers that make the same calls with boto3 or
aiobotocore clients."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from bedrock_stub import BedrockStub, bedrock_stub
from botocore.config import Config
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from routewatch.instrumentation import RoutewatchInstrumentor

CLIENT_ARGS: dict[str, Any] = {
    "region_name": "us-east-1",
    "aws_access_key_id": "test",
    "aws_secret_access_key": "test",
    # One attempt: a fault the server injects reaches the app (and the span) as it is.
    "config": Config(retries={"total_max_attempts": 1}),
}


@dataclass
class Telemetry:
    exporter: InMemorySpanExporter
    reader: InMemoryMetricReader
    tracer_provider: TracerProvider
    meter_provider: MeterProvider

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def span(self) -> ReadableSpan:
        spans = self.spans()
        assert len(spans) == 1, [s.name for s in spans]
        return spans[0]

    def points(self, name: str) -> list[Any]:
        """Data points of metric `name`, over every instrumentation scope."""
        data = self.reader.get_metrics_data()
        found = []
        for resource_metrics in data.resource_metrics if data else ():
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    if metric.name == name:
                        found.extend(metric.data.data_points)
        return found

    def metric_scopes(self, name: str) -> list[str]:
        data = self.reader.get_metrics_data()
        return [
            scope_metrics.scope.name
            for resource_metrics in (data.resource_metrics if data else ())
            for scope_metrics in resource_metrics.scope_metrics
            for metric in scope_metrics.metrics
            if metric.name == name
        ]


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
def stub() -> Iterator[BedrockStub]:
    with bedrock_stub() as server:
        yield server


@pytest.fixture(autouse=True)
def _clean_stub(stub: BedrockStub) -> None:
    stub.faults.clear()
    stub.requests.clear()


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


def sync_client(stub: BedrockStub) -> Any:
    return boto3.session.Session().client(
        "bedrock-runtime", endpoint_url=stub.endpoint_url, **CLIENT_ARGS
    )


class SyncDriver:
    """Bedrock calls through a boto3 client; streams are read to the end."""

    name = "sync"

    def __init__(self, stub: BedrockStub) -> None:
        self.client = sync_client(stub)

    def converse(self, **params: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.client.converse(**params)
        return result

    def converse_stream(self, **params: Any) -> list[dict[str, Any]]:
        return list(self.client.converse_stream(**params)["stream"])

    def invoke(self, model_id: str, body: dict[str, Any]) -> dict[str, Any]:
        result = self.client.invoke_model(modelId=model_id, body=json.dumps(body))
        decoded: dict[str, Any] = json.loads(result["body"].read())
        return decoded

    def invoke_stream(self, model_id: str, body: dict[str, Any]) -> list[dict[str, Any]]:
        result = self.client.invoke_model_with_response_stream(
            modelId=model_id, body=json.dumps(body)
        )
        return [json.loads(event["chunk"]["bytes"]) for event in result["body"]]

    def close(self) -> None:
        self.client.close()


class AsyncDriver:
    """The same calls through an aiobotocore client, on a loop of its own."""

    name = "async"

    def __init__(self, stub: BedrockStub) -> None:
        import aiobotocore.session

        self.loop = asyncio.new_event_loop()
        self._context = aiobotocore.session.get_session().create_client(
            "bedrock-runtime", endpoint_url=stub.endpoint_url, **CLIENT_ARGS
        )
        self.client = self.run(self._context.__aenter__())

    def run(self, coroutine: Any) -> Any:
        return self.loop.run_until_complete(coroutine)

    def converse(self, **params: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.run(self.client.converse(**params))
        return result

    def converse_stream(self, **params: Any) -> list[dict[str, Any]]:
        async def call() -> list[dict[str, Any]]:
            result = await self.client.converse_stream(**params)
            return [event async for event in result["stream"]]

        events: list[dict[str, Any]] = self.run(call())
        return events

    def invoke(self, model_id: str, body: dict[str, Any]) -> dict[str, Any]:
        async def call() -> dict[str, Any]:
            result = await self.client.invoke_model(modelId=model_id, body=json.dumps(body))
            decoded: dict[str, Any] = json.loads(await result["body"].read())
            return decoded

        decoded: dict[str, Any] = self.run(call())
        return decoded

    def invoke_stream(self, model_id: str, body: dict[str, Any]) -> list[dict[str, Any]]:
        async def call() -> list[dict[str, Any]]:
            result = await self.client.invoke_model_with_response_stream(
                modelId=model_id, body=json.dumps(body)
            )
            return [json.loads(event["chunk"]["bytes"]) async for event in result["body"]]

        chunks: list[dict[str, Any]] = self.run(call())
        return chunks

    def close(self) -> None:
        self.run(self._context.__aexit__(None, None, None))
        self.loop.close()


Driver = SyncDriver | AsyncDriver


@pytest.fixture(scope="session")
def sync_driver(stub: BedrockStub) -> Iterator[SyncDriver]:
    # Clients are made once: creating one costs more than the calls of a test, and the
    # instrumentation patches the client class, so clients made before it are traced too.
    made = SyncDriver(stub)
    yield made
    made.close()


@pytest.fixture(scope="session")
def async_driver(stub: BedrockStub) -> Iterator[AsyncDriver]:
    made = AsyncDriver(stub)
    yield made
    made.close()


@pytest.fixture(params=["sync", "async"])
def driver(request: pytest.FixtureRequest) -> Driver:
    """Parametrises a test over a boto3 client and an aiobotocore client."""
    made: Driver = request.getfixturevalue(f"{request.param}_driver")
    return made
