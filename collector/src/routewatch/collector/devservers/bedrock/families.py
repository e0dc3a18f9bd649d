"""InvokeModel request and response bodies per model family, as Bedrock documents them.

One handler class per family, found through `family_of(model_id)`'s prefix table (no chains of
`elif "cohere" in model_id`). Each handler reads a request body into a `Prompt`, writes the
non-streaming body of a `Generation`, and its stream chunks for InvokeModelWithResponseStream
(the server adds `amazon-bedrock-invocationMetrics` to the last chunk, as Bedrock does).
"""

from __future__ import annotations

from typing import Any, ClassVar

from routewatch.collector.devservers.bedrock.faults import ServiceError
from routewatch.collector.devservers.bedrock.generation import Generation, Prompt

Body = dict[str, Any]

# Cross-region inference profile prefixes (`us.anthropic...`, `global.anthropic...`).
REGION_PREFIXES = frozenset({"us", "eu", "apac", "global", "us-gov", "jp", "au", "ca"})


def base_model_id(model_id: str) -> str:
    """`anthropic.claude-3-haiku-20240307-v1:0` from an ARN, a profile id or the plain id."""
    if model_id.startswith("arn:"):
        model_id = model_id.rsplit("/", 1)[-1]
    head, _, rest = model_id.partition(".")
    return rest if rest and head in REGION_PREFIXES else model_id


def malformed(detail: str) -> ServiceError:
    return ServiceError.of(
        "validation",
        f"Malformed input request: {detail}, please reformat your input and try again.",
    )


def _require(body: Body, key: str) -> Any:
    if key not in body:
        raise malformed(f"#: required key [{key}] not found")
    return body[key]


def _int_or_none(body: Body, key: str) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise malformed(f"#/{key}: expected integer >= 1, found {value!r}")
    return value


def _message_text(messages: Any) -> str:
    if not isinstance(messages, list) or not messages:
        raise malformed("#/messages: expected a non-empty array")
    parts: list[str] = []
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(str(block.get("text", "")) for block in content if isinstance(block, dict))
        else:
            raise malformed("#/messages: each message needs a content")
    return "\n".join(parts)


class Family:
    """Base handler: a family's name, content type and body shapes."""

    name: ClassVar[str] = ""
    # Stop reasons in the family's own vocabulary: (finished, cut at max tokens).
    stop_reasons: ClassVar[tuple[str, str]] = ("end_turn", "max_tokens")

    def stop_reason(self, gen: Generation) -> str:
        return self.stop_reasons[1] if gen.truncated else self.stop_reasons[0]

    def parse(self, body: Body) -> Prompt:
        raise NotImplementedError

    def body(self, gen: Generation) -> Body:
        raise NotImplementedError

    def chunks(self, gen: Generation) -> list[Body]:
        raise NotImplementedError


class Anthropic(Family):
    """Claude, Messages API (`anthropic_version: bedrock-2023-05-31`)."""

    name = "anthropic"

    def parse(self, body: Body) -> Prompt:
        _require(body, "anthropic_version")
        max_tokens = _int_or_none(body, "max_tokens")
        if max_tokens is None:
            raise malformed("#: required key [max_tokens] not found")
        system = body.get("system", "")
        text = _message_text(_require(body, "messages"))
        return Prompt(f"{system}\n{text}" if isinstance(system, str) else text, max_tokens)

    def _model(self, gen: Generation) -> str:
        return base_model_id(gen.model_id).removeprefix("anthropic.").split("-v", 1)[0]

    def _usage(self, gen: Generation, output_tokens: int) -> Body:
        usage: Body = {"input_tokens": gen.input_tokens, "output_tokens": output_tokens}
        if gen.cache_read_tokens or gen.cache_write_tokens:
            usage["cache_creation_input_tokens"] = gen.cache_write_tokens
            usage["cache_read_input_tokens"] = gen.cache_read_tokens
        return usage

    def body(self, gen: Generation) -> Body:
        return {
            "id": f"msg_bdrk_{gen.request_id.replace('-', '')[:24]}",
            "type": "message",
            "role": "assistant",
            "model": self._model(gen),
            "content": [{"type": "text", "text": gen.text}],
            "stop_reason": self.stop_reason(gen),
            "stop_sequence": None,
            "usage": self._usage(gen, gen.output_tokens),
        }

    def chunks(self, gen: Generation) -> list[Body]:
        message = self.body(gen) | {"content": [], "stop_reason": None}
        message["usage"] = self._usage(gen, 1)
        out: list[Body] = [
            {"type": "message_start", "message": message},
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
        ]
        out += [
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": piece},
            }
            for piece in gen.pieces
        ]
        out += [
            {"type": "content_block_stop", "index": 0},
            {
                "type": "message_delta",
                "delta": {"stop_reason": self.stop_reason(gen), "stop_sequence": None},
                "usage": {"output_tokens": gen.output_tokens},
            },
            {"type": "message_stop"},
        ]
        return out


class Nova(Family):
    """Amazon Nova, `messages-v1` schema."""

    name = "nova"

    def parse(self, body: Body) -> Prompt:
        text = _message_text(_require(body, "messages"))
        config = body.get("inferenceConfig") or {}
        if not isinstance(config, dict):
            raise malformed("#/inferenceConfig: expected an object")
        max_tokens = _int_or_none(config, "maxTokens") or _int_or_none(config, "max_new_tokens")
        return Prompt(text, max_tokens)

    def _usage(self, gen: Generation) -> Body:
        usage: Body = {
            "inputTokens": gen.input_tokens,
            "outputTokens": gen.output_tokens,
            "totalTokens": gen.input_tokens + gen.output_tokens,
        }
        if gen.cache_read_tokens or gen.cache_write_tokens:
            usage["cacheReadInputTokenCount"] = gen.cache_read_tokens
            usage["cacheWriteInputTokenCount"] = gen.cache_write_tokens
        return usage

    def body(self, gen: Generation) -> Body:
        return {
            "output": {"message": {"role": "assistant", "content": [{"text": gen.text}]}},
            "stopReason": self.stop_reason(gen),
            "usage": self._usage(gen),
        }

    def chunks(self, gen: Generation) -> list[Body]:
        out: list[Body] = [{"messageStart": {"role": "assistant"}}]
        out += [
            {"contentBlockDelta": {"delta": {"text": piece}, "contentBlockIndex": 0}}
            for piece in gen.pieces
        ]
        out += [
            {"contentBlockStop": {"contentBlockIndex": 0}},
            {"messageStop": {"stopReason": self.stop_reason(gen)}},
            {"metadata": {"usage": self._usage(gen), "metrics": {}, "trace": {}}},
        ]
        return out


class Titan(Family):
    """Amazon Titan Text (`inputText` + `textGenerationConfig`)."""

    name = "titan"
    stop_reasons = ("FINISH", "LENGTH")

    def parse(self, body: Body) -> Prompt:
        text = _require(body, "inputText")
        config = body.get("textGenerationConfig") or {}
        if not isinstance(config, dict):
            raise malformed("#/textGenerationConfig: expected an object")
        return Prompt(str(text), _int_or_none(config, "maxTokenCount"))

    def body(self, gen: Generation) -> Body:
        return {
            "inputTextTokenCount": gen.input_tokens,
            "results": [
                {
                    "tokenCount": gen.output_tokens,
                    "outputText": gen.text,
                    "completionReason": self.stop_reason(gen),
                }
            ],
        }

    def chunks(self, gen: Generation) -> list[Body]:
        out: list[Body] = []
        last = len(gen.pieces) - 1
        for i, piece in enumerate(gen.pieces):
            chunk: Body = {
                "outputText": piece,
                "index": 0,
                "totalOutputTextTokenCount": gen.output_tokens if i == last else None,
                "completionReason": self.stop_reason(gen) if i == last else None,
            }
            if i == 0:
                chunk["inputTextTokenCount"] = gen.input_tokens
            out.append(chunk)
        return out


class Llama(Family):
    """Meta Llama (`prompt` + `max_gen_len`)."""

    name = "llama"
    stop_reasons = ("stop", "length")

    def parse(self, body: Body) -> Prompt:
        return Prompt(str(_require(body, "prompt")), _int_or_none(body, "max_gen_len"))

    def body(self, gen: Generation) -> Body:
        return {
            "generation": gen.text,
            "prompt_token_count": gen.input_tokens,
            "generation_token_count": gen.output_tokens,
            "stop_reason": self.stop_reason(gen),
        }

    def chunks(self, gen: Generation) -> list[Body]:
        last = len(gen.pieces) - 1
        per_piece = max(1, gen.output_tokens // len(gen.pieces))
        return [
            {
                "generation": piece,
                "prompt_token_count": gen.input_tokens if i == 0 else None,
                "generation_token_count": gen.output_tokens if i == last else per_piece * (i + 1),
                "stop_reason": self.stop_reason(gen) if i == last else None,
            }
            for i, piece in enumerate(gen.pieces)
        ]


class Mistral(Family):
    """Mistral: text completion (`prompt`) answers `outputs`; chat (`messages`, Mistral Large
    2407 and later) answers `choices`. Token counts travel only in headers and metrics."""

    name = "mistral"
    stop_reasons = ("stop", "length")

    def parse(self, body: Body) -> Prompt:
        if "messages" in body:
            return Prompt(_message_text(body["messages"]), _int_or_none(body, "max_tokens"))
        return Prompt(str(_require(body, "prompt")), _int_or_none(body, "max_tokens"))

    def body(self, gen: Generation) -> Body:
        return {"outputs": [{"text": gen.text, "stop_reason": self.stop_reason(gen)}]}

    def chunks(self, gen: Generation) -> list[Body]:
        last = len(gen.pieces) - 1
        return [
            {
                "outputs": [
                    {"text": piece, "stop_reason": self.stop_reason(gen) if i == last else None}
                ]
            }
            for i, piece in enumerate(gen.pieces)
        ]


class MistralChat(Mistral):
    def body(self, gen: Generation) -> Body:
        return {
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": gen.text},
                    "stop_reason": self.stop_reason(gen),
                }
            ]
        }

    def chunks(self, gen: Generation) -> list[Body]:
        last = len(gen.pieces) - 1
        return [
            {
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": piece},
                        "stop_reason": self.stop_reason(gen) if i == last else None,
                    }
                ]
            }
            for i, piece in enumerate(gen.pieces)
        ]


class CohereChat(Family):
    """Cohere Command R / R+ (`message` + `chat_history`)."""

    name = "cohere"
    stop_reasons = ("COMPLETE", "MAX_TOKENS")

    def parse(self, body: Body) -> Prompt:
        return Prompt(str(_require(body, "message")), _int_or_none(body, "max_tokens"))

    def body(self, gen: Generation) -> Body:
        return {
            "response_id": gen.request_id,
            "text": gen.text,
            "generation_id": gen.request_id[::-1],
            "chat_history": [{"role": "CHATBOT", "message": gen.text}],
            "finish_reason": self.stop_reason(gen),
            "meta": {
                "api_version": {"version": "1"},
                "billed_units": {
                    "input_tokens": gen.input_tokens,
                    "output_tokens": gen.output_tokens,
                },
            },
        }

    def chunks(self, gen: Generation) -> list[Body]:
        out: list[Body] = [
            {
                "is_finished": False,
                "event_type": "stream-start",
                "generation_id": gen.request_id[::-1],
            }
        ]
        out += [
            {"is_finished": False, "event_type": "text-generation", "text": piece}
            for piece in gen.pieces
        ]
        out.append(
            {
                "is_finished": True,
                "event_type": "stream-end",
                "finish_reason": self.stop_reason(gen),
                "response": self.body(gen),
            }
        )
        return out


class CohereGenerate(CohereChat):
    """Cohere Command (text and light: `prompt`), answering `generations`."""

    def parse(self, body: Body) -> Prompt:
        return Prompt(str(_require(body, "prompt")), _int_or_none(body, "max_tokens"))

    def body(self, gen: Generation) -> Body:
        return {
            "id": gen.request_id,
            "generations": [
                {
                    "id": gen.request_id[::-1],
                    "text": gen.text,
                    "finish_reason": self.stop_reason(gen),
                }
            ],
            "prompt": "",
        }

    def chunks(self, gen: Generation) -> list[Body]:
        last = len(gen.pieces) - 1
        out: list[Body] = []
        for i, piece in enumerate(gen.pieces):
            chunk: Body = {"text": piece, "is_finished": False}
            if i == last:
                chunk = {
                    "text": piece,
                    "is_finished": True,
                    "finish_reason": self.stop_reason(gen),
                    "response": self.body(gen),
                }
            out.append(chunk)
        return out


# Longest prefix first: `cohere.command-r` before `cohere.command`.
_FAMILIES: tuple[tuple[str, Family], ...] = (
    ("anthropic.claude", Anthropic()),
    ("amazon.nova", Nova()),
    ("amazon.titan-text", Titan()),
    ("meta.llama", Llama()),
    ("mistral.mistral-large-2407", MistralChat()),
    ("mistral.", Mistral()),
    ("cohere.command-r", CohereChat()),
    ("cohere.command", CohereGenerate()),
)


def family_of(model_id: str) -> Family:
    """The handler for a model id (plain, cross-region profile or ARN); ValidationException
    with the service's own message for a model it does not know."""
    base = base_model_id(model_id)
    for prefix, family in _FAMILIES:
        if base.startswith(prefix):
            return family
    raise ServiceError.of("validation", "The provided model identifier is invalid.")
