"""How each model family's InvokeModel bodies read: a table of handlers, one per family.

`family_for(base_model_id)` picks the handler by id prefix from `FAMILIES` (first match
wins, so `cohere.command-r` precedes `cohere.command`). A handler knows its family's request
parameters (as key paths), its prompt, its response body and its stream chunks; what every
family shares (the token counts Bedrock adds in headers and in the last stream chunk) is read
by the caller. Converse has the same interface (`converse.py`), so one code path serves all.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from routewatch.instrumentation import semconv
from routewatch.instrumentation.bedrock import content
from routewatch.instrumentation.bedrock.completion import Completion

_ATTRIBUTES = {
    "max_tokens": semconv.GEN_AI_REQUEST_MAX_TOKENS,
    "temperature": semconv.GEN_AI_REQUEST_TEMPERATURE,
    "top_p": semconv.GEN_AI_REQUEST_TOP_P,
    "top_k": semconv.GEN_AI_REQUEST_TOP_K,
    "stop_sequences": semconv.GEN_AI_REQUEST_STOP_SEQUENCES,
}


def params(**paths: tuple[str, ...]) -> dict[str, tuple[tuple[str, ...], ...]]:
    """Request parameter -> candidate key paths in the body ("a.b" = nested), first found wins."""
    return {
        _ATTRIBUTES[name]: tuple(tuple(p.split(".")) for p in found)
        for name, found in paths.items()
    }


def dig(obj: Any, *path: str) -> Any:
    """obj[path[0]][path[1]]..., or None where a level is missing or not a mapping."""
    for key in path:
        # botocore hands over dicts: the exact type check spares the ABC check per level.
        if type(obj) is not dict and not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def first(items: Any) -> Any:
    return items[0] if isinstance(items, list) and items else None


# The keys a format names its token counts with: input, output, cache read, cache write.
UsageKeys = tuple[str, str, str, str]


def read_usage(
    usage: Any, keys: UsageKeys, completion: Completion, *, fill_only: bool = False
) -> None:
    """Token counts from a format's usage object (ignored unless a mapping)."""
    if isinstance(usage, Mapping):
        completion.usage(*(usage.get(key) for key in keys), fill_only=fill_only)


def _attribute_value(attribute: str, value: Any) -> Any:
    if attribute == semconv.GEN_AI_REQUEST_STOP_SEQUENCES:
        if isinstance(value, str):
            return (value,)
        if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
            return tuple(value)
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return None


class Handler:
    """One request/response format. Every method is called through safe_invoke; a method
    that finds nothing it knows leaves the completion as it was."""

    name = "generic"
    operation = semconv.OPERATION_CHAT
    params: Mapping[str, tuple[tuple[str, ...], ...]] = {}

    def operation_name(self, request: Mapping[str, Any]) -> str:
        return self.operation

    def request_attributes(self, request: Mapping[str, Any]) -> dict[str, Any]:
        attributes: dict[str, Any] = {}
        for attribute, paths in self.params.items():
            for path in paths:
                found = dig(request, *path)
                if found is None:  # most parameters are absent from most requests
                    continue
                value = _attribute_value(attribute, found)
                if value is not None:
                    attributes[attribute] = value
                    break
        return attributes

    def system_instructions(self, request: Mapping[str, Any]) -> list[content.Part]:
        return []

    def input_messages(self, request: Mapping[str, Any]) -> list[content.Message]:
        return []

    def read_response(self, body: Mapping[str, Any], completion: Completion) -> None:
        """Read a whole response body."""

    def read_chunk(self, chunk: Mapping[str, Any], completion: Completion) -> None:
        """Read one decoded stream chunk."""


class Claude(Handler):
    """Anthropic Claude, Messages API body (`anthropic_version`, `messages`)."""

    name = "anthropic.claude"
    usage_keys: UsageKeys = (
        "input_tokens",
        "output_tokens",
        "cache_read_input_tokens",
        "cache_creation_input_tokens",
    )
    params = params(
        max_tokens=("max_tokens",),
        temperature=("temperature",),
        top_p=("top_p",),
        top_k=("top_k",),
        stop_sequences=("stop_sequences",),
    )

    def system_instructions(self, request: Mapping[str, Any]) -> list[content.Part]:
        return content.parts(request.get("system"))

    def input_messages(self, request: Mapping[str, Any]) -> list[content.Message]:
        return content.messages(request.get("messages"))

    def read_response(self, body: Mapping[str, Any], completion: Completion) -> None:
        completion.response_id = body.get("id")
        completion.response_model = body.get("model")
        completion.finish(body.get("stop_reason"))
        read_usage(body.get("usage"), self.usage_keys, completion)
        for block in body.get("content") or ():
            if isinstance(block, Mapping):
                if block.get("type") == "text":
                    completion.add_text(block.get("text"))
                elif block.get("type") == "tool_use":
                    completion.tool_calls.append(
                        content.tool_call(block.get("id"), block.get("name"), block.get("input"))
                    )

    def read_chunk(self, chunk: Mapping[str, Any], completion: Completion) -> None:
        kind = chunk.get("type")
        if kind == "message_start":
            message = chunk.get("message") or {}
            completion.response_id = message.get("id")
            completion.response_model = message.get("model")
            read_usage(message.get("usage"), self.usage_keys, completion)
        elif kind == "content_block_delta":
            completion.add_text(dig(chunk, "delta", "text"))
        elif kind == "message_delta":
            completion.finish(dig(chunk, "delta", "stop_reason"))
            completion.usage(output_tokens=dig(chunk, "usage", "output_tokens"))


class Nova(Handler):
    """Amazon Nova, `messages-v1` schema: the Converse shapes in an InvokeModel body."""

    name = "amazon.nova"
    params = params(
        max_tokens=("inferenceConfig.max_new_tokens", "inferenceConfig.maxTokens"),
        temperature=("inferenceConfig.temperature",),
        top_p=("inferenceConfig.top_p", "inferenceConfig.topP"),
        top_k=("inferenceConfig.top_k", "inferenceConfig.topK"),
        stop_sequences=("inferenceConfig.stopSequences",),
    )
    usage_keys: UsageKeys = (
        "inputTokens",
        "outputTokens",
        "cacheReadInputTokenCount",
        "cacheWriteInputTokenCount",
    )

    def system_instructions(self, request: Mapping[str, Any]) -> list[content.Part]:
        return content.parts(request.get("system"))

    def input_messages(self, request: Mapping[str, Any]) -> list[content.Message]:
        return content.messages(request.get("messages"))

    def read_response(self, body: Mapping[str, Any], completion: Completion) -> None:
        completion.finish(body.get("stopReason"))
        read_usage(body.get("usage"), self.usage_keys, completion)
        for block in dig(body, "output", "message", "content") or ():
            if isinstance(block, Mapping):
                completion.add_text(block.get("text"))
                use = block.get("toolUse")
                if isinstance(use, Mapping):
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
            read_usage(dig(chunk, "metadata", "usage"), self.usage_keys, completion)


class Titan(Handler):
    """Amazon Titan Text: completion style (`inputText`)."""

    name = "amazon.titan-text"
    operation = semconv.OPERATION_TEXT_COMPLETION
    params = params(
        max_tokens=("textGenerationConfig.maxTokenCount",),
        temperature=("textGenerationConfig.temperature",),
        top_p=("textGenerationConfig.topP",),
        stop_sequences=("textGenerationConfig.stopSequences",),
    )

    def input_messages(self, request: Mapping[str, Any]) -> list[content.Message]:
        return content.user_prompt(request.get("inputText"))

    def read_response(self, body: Mapping[str, Any], completion: Completion) -> None:
        results = [r for r in body.get("results") or () if isinstance(r, Mapping)]
        output = sum(r.get("tokenCount") or 0 for r in results) if results else None
        completion.usage(body.get("inputTextTokenCount"), output)
        for result in results:
            completion.add_text(result.get("outputText"))
            completion.finish(result.get("completionReason"))

    def read_chunk(self, chunk: Mapping[str, Any], completion: Completion) -> None:
        completion.add_text(chunk.get("outputText"))
        completion.finish(chunk.get("completionReason"))
        completion.usage(chunk.get("inputTextTokenCount"), chunk.get("totalOutputTextTokenCount"))


class Llama(Handler):
    """Meta Llama: completion style (`prompt`, `max_gen_len`)."""

    name = "meta.llama"
    operation = semconv.OPERATION_TEXT_COMPLETION
    params = params(max_tokens=("max_gen_len",), temperature=("temperature",), top_p=("top_p",))

    def input_messages(self, request: Mapping[str, Any]) -> list[content.Message]:
        return content.user_prompt(request.get("prompt"))

    def read_response(self, body: Mapping[str, Any], completion: Completion) -> None:
        self.read_chunk(body, completion)

    def read_chunk(self, chunk: Mapping[str, Any], completion: Completion) -> None:
        # A stream chunk has the body's shape; generation_token_count is cumulative.
        completion.add_text(chunk.get("generation"))
        completion.finish(chunk.get("stop_reason"))
        completion.usage(chunk.get("prompt_token_count"), chunk.get("generation_token_count"))


class Mistral(Handler):
    """Mistral AI: completion style (`prompt`, `outputs`) or chat style (`messages`, `choices`)."""

    name = "mistral"
    operation = semconv.OPERATION_TEXT_COMPLETION
    params = params(
        max_tokens=("max_tokens",),
        temperature=("temperature",),
        top_p=("top_p",),
        top_k=("top_k",),
        stop_sequences=("stop",),
    )

    def operation_name(self, request: Mapping[str, Any]) -> str:
        return (
            semconv.OPERATION_CHAT if "messages" in request else semconv.OPERATION_TEXT_COMPLETION
        )

    def input_messages(self, request: Mapping[str, Any]) -> list[content.Message]:
        if "messages" in request:
            return content.messages(request.get("messages"))
        return content.user_prompt(request.get("prompt"))

    def read_response(self, body: Mapping[str, Any], completion: Completion) -> None:
        self.read_chunk(body, completion)

    def read_chunk(self, chunk: Mapping[str, Any], completion: Completion) -> None:
        for output in chunk.get("outputs") or ():
            if isinstance(output, Mapping):
                completion.add_text(output.get("text"))
                completion.finish(output.get("stop_reason"))
        for choice in chunk.get("choices") or ():
            if isinstance(choice, Mapping):
                message = choice.get("message") or choice.get("delta")
                completion.add_text(dig(message, "content"))
                completion.finish(choice.get("stop_reason") or choice.get("finish_reason"))


# Both Cohere generations name their parameters alike.
_COHERE_PARAMS = params(
    max_tokens=("max_tokens",),
    temperature=("temperature",),
    top_p=("p",),
    top_k=("k",),
    stop_sequences=("stop_sequences",),
)


class CohereCommandR(Handler):
    """Cohere Command R / R+: chat style (`message`, `chat_history`, `preamble`)."""

    name = "cohere.command-r"
    params = _COHERE_PARAMS

    def system_instructions(self, request: Mapping[str, Any]) -> list[content.Part]:
        return content.parts(request.get("preamble") or [])

    def input_messages(self, request: Mapping[str, Any]) -> list[content.Message]:
        history = content.messages(request.get("chat_history"), content_key="message")
        return history + content.user_prompt(request.get("message"))

    def read_response(self, body: Mapping[str, Any], completion: Completion) -> None:
        completion.response_id = body.get("response_id")
        completion.add_text(body.get("text"))
        completion.finish(body.get("finish_reason"))

    def read_chunk(self, chunk: Mapping[str, Any], completion: Completion) -> None:
        kind = chunk.get("event_type")
        if kind == "text-generation":
            completion.add_text(chunk.get("text"))
        elif kind == "stream-end":
            completion.finish(chunk.get("finish_reason"))
            completion.response_id = dig(chunk, "response", "response_id")


class CohereCommand(Handler):
    """Cohere Command / Command Light: completion style (`prompt`, `generations`)."""

    name = "cohere.command"
    operation = semconv.OPERATION_TEXT_COMPLETION
    params = _COHERE_PARAMS

    def input_messages(self, request: Mapping[str, Any]) -> list[content.Message]:
        return content.user_prompt(request.get("prompt"))

    def read_response(self, body: Mapping[str, Any], completion: Completion) -> None:
        completion.response_id = body.get("id")
        for generation in body.get("generations") or ():
            if isinstance(generation, Mapping):
                completion.add_text(generation.get("text"))
                completion.finish(generation.get("finish_reason"))

    def read_chunk(self, chunk: Mapping[str, Any], completion: Completion) -> None:
        if chunk.get("is_finished"):
            completion.finish(chunk.get("finish_reason"))
        else:
            completion.add_text(chunk.get("text"))


GENERIC = Handler()

# Base model id prefix -> handler; first match wins.
FAMILIES: tuple[tuple[str, Handler], ...] = (
    ("anthropic.claude", Claude()),
    ("amazon.nova", Nova()),
    ("amazon.titan-text", Titan()),
    ("meta.llama", Llama()),
    ("mistral.", Mistral()),
    ("cohere.command-r", CohereCommandR()),
    ("cohere.command", CohereCommand()),
)


def family_for(base_model_id: str) -> Handler:
    """The handler for a base model id; GENERIC (no body parsing) for unknown families."""
    for prefix, handler in FAMILIES:
        if base_model_id.startswith(prefix):
            return handler
    return GENERIC


_INVOCATION_METRICS_KEYS: UsageKeys = (
    "inputTokenCount",
    "outputTokenCount",
    "cacheReadInputTokenCount",
    "cacheWriteInputTokenCount",
)


def read_invocation_metrics(chunk: Mapping[str, Any], completion: Completion) -> None:
    """Token counts Bedrock appends to the last chunk of every InvokeModelWithResponseStream,
    used where the family's own chunks did not say."""
    metrics = chunk.get("amazon-bedrock-invocationMetrics")
    read_usage(metrics, _INVOCATION_METRICS_KEYS, completion, fill_only=True)


_TOKEN_HEADERS = (
    "x-amzn-bedrock-input-token-count",
    "x-amzn-bedrock-output-token-count",
    "x-amzn-bedrock-cache-read-input-token-count",
    "x-amzn-bedrock-cache-write-input-token-count",
)


def read_token_headers(headers: Mapping[str, str], completion: Completion) -> None:
    """Token counts from InvokeModel's response headers, where the body did not say."""
    counts = []
    for name in _TOKEN_HEADERS:
        value = headers.get(name)
        counts.append(int(value) if isinstance(value, str) and value.isdigit() else None)
    completion.usage(*counts, fill_only=True)
