"""Converse and ConverseStream: one model-independent request and response format."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from routewatch.instrumentation.bedrock import content
from routewatch.instrumentation.bedrock.completion import Completion
from routewatch.instrumentation.bedrock.families import Handler, dig, params


class Converse(Handler):
    """Reads Converse API parameters and results (also the events of ConverseStream)."""

    name = "converse"
    params = params(
        max_tokens=("inferenceConfig.maxTokens",),
        temperature=("inferenceConfig.temperature",),
        top_p=("inferenceConfig.topP",),
        # top_k is model-specific, so it travels in additionalModelRequestFields.
        top_k=(
            "additionalModelRequestFields.top_k",
            "additionalModelRequestFields.inferenceConfig.topK",
        ),
        stop_sequences=("inferenceConfig.stopSequences",),
    )

    def system_instructions(self, request: Mapping[str, Any]) -> list[content.Part]:
        return content.parts(request.get("system"))

    def input_messages(self, request: Mapping[str, Any]) -> list[content.Message]:
        return content.messages(request.get("messages"))

    def read_response(self, body: Mapping[str, Any], completion: Completion) -> None:
        completion.finish(body.get("stopReason"))
        self._usage(body.get("usage"), completion)
        for block in dig(body, "output", "message", "content") or ():
            if isinstance(block, Mapping):
                completion.add_text(block.get("text"))
                if isinstance(block.get("toolUse"), Mapping):
                    use = block["toolUse"]
                    completion.tool_calls.append(
                        content.tool_call(use.get("toolUseId"), use.get("name"), use.get("input"))
                    )

    def read_chunk(self, chunk: Mapping[str, Any], completion: Completion) -> None:
        # One event per chunk: messageStart, contentBlockStart/Delta/Stop, messageStop, metadata.
        if "contentBlockDelta" in chunk:
            completion.add_text(dig(chunk, "contentBlockDelta", "delta", "text"))
        elif "messageStop" in chunk:
            completion.finish(dig(chunk, "messageStop", "stopReason"))
        elif "metadata" in chunk:
            self._usage(dig(chunk, "metadata", "usage"), completion)

    @staticmethod
    def _usage(usage: Any, completion: Completion) -> None:
        if isinstance(usage, Mapping):
            completion.usage(
                usage.get("inputTokens"),
                usage.get("outputTokens"),
                usage.get("cacheReadInputTokens"),
                usage.get("cacheWriteInputTokens"),
            )


CONVERSE = Converse()
