"""Routers as an app writes them (no OpenTelemetry import) whose backend is Bedrock: each
model in the request's plan is one attempt on the direct path, the next one the retry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

MESSAGES = [{"role": "user", "content": [{"text": "Is the checkout service healthy?"}]}]


@dataclass
class Request:
    operation: str
    models: tuple[str, ...]


class BedrockRouter:
    def __init__(self, client: Any) -> None:
        self.client = client

    def handle(self, request: Request) -> dict[str, Any]:
        failure: ClientError | None = None
        for model in request.models:
            try:
                result: dict[str, Any] = self.client.converse(
                    modelId=model, messages=MESSAGES, inferenceConfig={"maxTokens": 64}
                )
                return result
            except ClientError as err:
                failure = err
        assert failure is not None
        raise failure

    def handle_stream(self, request: Request) -> str:
        (model,) = request.models
        stream = self.client.converse_stream(modelId=model, messages=MESSAGES)["stream"]
        return "".join(
            event["contentBlockDelta"]["delta"].get("text", "")
            for event in stream
            if "contentBlockDelta" in event
        )


class AsyncBedrockRouter:
    def __init__(self, client: Any) -> None:
        self.client = client  # an aiobotocore bedrock-runtime client

    async def handle(self, request: Request) -> dict[str, Any]:
        failure: ClientError | None = None
        for model in request.models:
            try:
                result: dict[str, Any] = await self.client.converse(
                    modelId=model, messages=MESSAGES, inferenceConfig={"maxTokens": 64}
                )
                return result
            except ClientError as err:
                failure = err
        assert failure is not None
        raise failure


_MODULE = "instrumentation.e2e.bedrock_router"
ROUTERS = ";".join(
    f"{_MODULE}:{name}(operation=request.operation)"
    for name in (
        "BedrockRouter.handle",
        "BedrockRouter.handle_stream",
        "AsyncBedrockRouter.handle",
    )
)
