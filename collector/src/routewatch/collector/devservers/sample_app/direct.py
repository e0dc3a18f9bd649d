"""The direct path: boto3 `bedrock-runtime` Converse, with the operation's timeout, maxTokens
and temperature."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

from routewatch.collector.devservers.sample_app.messages import PathResult, SupportRequest
from routewatch.collector.devservers.sample_app.operations import DIRECT, Operation

DEFAULT_MODEL = "anthropic.claude-3-5-sonnet-20240620-v1:0"
# Stop reasons of a usable answer; anything else (content_filtered, guardrail_intervened, ...)
# is an unsuccessful response and falls back.
_OK_STOP_REASONS = frozenset({"end_turn", "max_tokens", "stop_sequence"})


def prompt_of(request: SupportRequest, task: str) -> str:
    details = ", ".join(f"{k}={request.context[k]}" for k in sorted(request.context))
    return (
        f"Support task {task} for a {request.operation_type} request. Details: {details or 'none'}."
    )


class DirectPath:
    name = DIRECT

    def __init__(
        self,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        default_model: str = DEFAULT_MODEL,
        **client_kwargs: Any,
    ) -> None:
        self.endpoint_url = endpoint_url
        self.region = region
        self.default_model = default_model
        self._client_kwargs = client_kwargs
        self._clients: dict[float, Any] = {}

    def _client(self, timeout: float) -> Any:
        # botocore fixes timeouts per client, so one client per operation timeout.
        client = self._clients.get(timeout)
        if client is None:
            config = Config(
                connect_timeout=timeout,
                read_timeout=timeout,
                # The router's fallback is the retry: one try per attempt, as the original.
                retries={"mode": "standard", "total_max_attempts": 1},
            )
            client = boto3.client(
                "bedrock-runtime",
                endpoint_url=self.endpoint_url,
                region_name=self.region,
                config=config,
                **self._client_kwargs,
            )
            self._clients[timeout] = client
        return client

    async def call(self, op: Operation, request: SupportRequest, task: str) -> PathResult:
        # A blocking call on purpose: the attempt stays in the routed request's context (no
        # thread hop), and the sample router serves one request at a time.
        model_id = request.model_id or self.default_model
        response = self._client(op.timeout).converse(
            modelId=model_id,
            system=[{"text": f"You are a support assistant. Priority: {op.priority}."}],
            messages=[{"role": "user", "content": [{"text": prompt_of(request, task)}]}],
            inferenceConfig={"maxTokens": op.max_tokens, "temperature": op.temperature},
        )
        usage = response.get("usage", {})
        texts = [
            block.get("text", "")
            for block in response.get("output", {}).get("message", {}).get("content", [])
        ]
        stop = response.get("stopReason", "")
        ok = stop in _OK_STOP_REASONS and any(texts)
        return PathResult(
            success=ok,
            text="".join(texts),
            error=None if ok else f"unsuccessful_response:{stop or 'empty'}",
            input_tokens=int(usage.get("inputTokens", 0)),
            output_tokens=int(usage.get("outputTokens", 0)),
            model_id=model_id,
        )

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()
