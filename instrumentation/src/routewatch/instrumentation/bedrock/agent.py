"""Bedrock Agents (`bedrock-agent-runtime` InvokeAgent): an attempt on the `agent` path."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from routewatch.instrumentation import semconv
from routewatch.instrumentation.bedrock import content
from routewatch.instrumentation.bedrock.completion import Completion
from routewatch.instrumentation.bedrock.families import Handler, dig

# Where an agent's trace events report the tokens of each model invocation it made.
_USAGE_PATHS = (
    ("trace", "trace", "orchestrationTrace", "modelInvocationOutput", "metadata", "usage"),
    ("trace", "trace", "preProcessingTrace", "modelInvocationOutput", "metadata", "usage"),
    ("trace", "trace", "postProcessingTrace", "modelInvocationOutput", "metadata", "usage"),
)


class Agent(Handler):
    """InvokeAgent's parameters and its `completion` event stream (text chunks, traces)."""

    name = "bedrock-agent"
    operation = semconv.OPERATION_INVOKE_AGENT

    def request_attributes(self, request: Mapping[str, Any]) -> dict[str, Any]:
        attributes = {}
        for attribute, key in (
            (semconv.GEN_AI_AGENT_ID, "agentId"),
            (semconv.GEN_AI_CONVERSATION_ID, "sessionId"),
        ):
            if isinstance(request.get(key), str):
                attributes[attribute] = request[key]
        return attributes

    def input_messages(self, request: Mapping[str, Any]) -> list[content.Message]:
        return content.user_prompt(request.get("inputText"))

    def read_chunk(self, chunk: Mapping[str, Any], completion: Completion) -> None:
        data = dig(chunk, "chunk", "bytes")
        if isinstance(data, bytes):
            completion.add_text(data.decode("utf-8", "replace"))
        for path in _USAGE_PATHS:
            usage = dig(chunk, *path)
            if isinstance(usage, Mapping):
                completion.add_usage(usage.get("inputTokens"), usage.get("outputTokens"))


AGENT = Agent()
