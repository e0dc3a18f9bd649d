"""Helpers of the Bedrock tests (imported by conftest.py and the tests): the in-memory
telemetry, the token counts the local Bedrock server is told to report, and sync/async
drivers that make the same calls with boto3 or aiobotocore."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from routewatch.collector.devservers.bedrock import Behaviour

# Usage every answer reports, so tests know what to expect.
INPUT, OUTPUT, CACHE_READ, CACHE_WRITE = 11, 7, 5, 3
BEHAVIOUR = Behaviour(
    input_tokens=INPUT,
    output_tokens=OUTPUT,
    cache_read_tokens=CACHE_READ,
    cache_write_tokens=CACHE_WRITE,
    chunk_count=2,
)

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


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def sync_client(url: str) -> Any:
    return boto3.session.Session().client("bedrock-runtime", endpoint_url=url, **CLIENT_ARGS)


class SyncDriver:
    """Bedrock calls through a boto3 client; streams are read to the end."""

    name = "sync"

    def __init__(self, url: str) -> None:
        self.client = sync_client(url)

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

    def __init__(self, url: str) -> None:
        import aiobotocore.session

        self.loop = asyncio.new_event_loop()
        self._context = aiobotocore.session.get_session().create_client(
            "bedrock-runtime", endpoint_url=url, **CLIENT_ARGS
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
