"""Converse and ConverseStream: one model-independent request and response format."""

from __future__ import annotations

from routewatch.instrumentation.bedrock.families import Nova, UsageKeys, params


class Converse(Nova):
    """Reads Converse API parameters and results (also the events of ConverseStream). Nova's
    `messages-v1` body is the Converse shape; the parameter and usage key names differ."""

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
    usage_keys: UsageKeys = (
        "inputTokens",
        "outputTokens",
        "cacheReadInputTokens",
        "cacheWriteInputTokens",
    )


CONVERSE = Converse()
