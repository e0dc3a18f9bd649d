"""The Converse API's request and response shapes (the same for every model family)."""

from __future__ import annotations

from typing import Any

from routewatch.collector.devservers.bedrock.faults import ServiceError
from routewatch.collector.devservers.bedrock.generation import Generation, Prompt

Body = dict[str, Any]


_FIRST_USER = (
    "A conversation must start with a user message. "
    "Try again with a conversation that starts with a user message."
)


def _invalid(detail: str) -> ServiceError:
    return ServiceError.of("validation", detail)


def _constraint(value: object, member: str, constraint: str) -> ServiceError:
    return _invalid(
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
        f"constraint: Member must {constraint}"
    )


def parse(body: Body) -> Prompt:
    """Read a Converse request; ValidationException with the service's wording when invalid."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise _invalid(_FIRST_USER)
    texts: list[str] = []
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
            role = message.get("role") if isinstance(message, dict) else None
            raise _constraint(
                role, f"messages.{i + 1}.member.role", "satisfy enum value set: [user, assistant]"
            )
        for block in message.get("content") or []:
            if isinstance(block, dict) and "text" in block:
                texts.append(str(block["text"]))
    if messages[0].get("role") != "user":
        raise _invalid(_FIRST_USER)
    for block in body.get("system") or []:
        if isinstance(block, dict) and "text" in block:
            texts.insert(0, str(block["text"]))
    config = body.get("inferenceConfig") or {}
    max_tokens = config.get("maxTokens")
    if max_tokens is not None and (not isinstance(max_tokens, int) or max_tokens < 1):
        raise _constraint(
            max_tokens, "inferenceConfig.maxTokens", "have value greater than or equal to 1"
        )
    temperature = config.get("temperature")
    if temperature is not None and (
        not isinstance(temperature, int | float) or not 0 <= temperature <= 1
    ):
        raise _constraint(
            temperature, "inferenceConfig.temperature", "have value less than or equal to 1"
        )
    return Prompt("\n".join(texts), max_tokens, temperature)


def _stop_reason(gen: Generation) -> str:
    return gen.stop_reason or ("max_tokens" if gen.truncated else "end_turn")


def usage(gen: Generation) -> Body:
    """TokenUsage; the cache fields appear only when prompt caching took part, as in Bedrock."""
    out: Body = {
        "inputTokens": gen.input_tokens,
        "outputTokens": gen.output_tokens,
        "totalTokens": gen.input_tokens
        + gen.output_tokens
        + gen.cache_read_tokens
        + gen.cache_write_tokens,
    }
    if gen.cache_read_tokens or gen.cache_write_tokens:
        out["cacheReadInputTokens"] = gen.cache_read_tokens
        out["cacheWriteInputTokens"] = gen.cache_write_tokens
    return out


def response(gen: Generation) -> Body:
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": gen.text}]}},
        "stopReason": _stop_reason(gen),
        "usage": usage(gen),
        "metrics": {"latencyMs": gen.latency_ms},
    }


def events(gen: Generation) -> list[tuple[str, Body]]:
    """ConverseStream events in order: (event type, payload)."""
    out: list[tuple[str, Body]] = [("messageStart", {"role": "assistant"})]
    out += [
        ("contentBlockDelta", {"delta": {"text": piece}, "contentBlockIndex": 0})
        for piece in gen.pieces
    ]
    out += [
        ("contentBlockStop", {"contentBlockIndex": 0}),
        ("messageStop", {"stopReason": _stop_reason(gen)}),
        ("metadata", {"usage": usage(gen), "metrics": {"latencyMs": gen.latency_ms}}),
    ]
    return out
