"""What a model call returned, gathered from a response body or from stream chunks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Provider stop reasons -> the finish_reason values of gen_ai.output.messages.
_FINISH_REASONS = {
    "end_turn": "stop",
    "stop": "stop",
    "stop_sequence": "stop",
    "complete": "stop",
    "finish": "stop",
    "max_tokens": "length",
    "length": "length",
    "tool_use": "tool_call",
    "tool_calls": "tool_call",
    "content_filtered": "content_filter",
    "guardrail_intervened": "content_filter",
    "error": "error",
    "error_toxic": "content_filter",
}


@dataclass(slots=True)
class Completion:
    """Accumulates a response. Token counts stay None when the response does not say;
    `input_tokens` here is the uncached input (Bedrock and Anthropic count cache apart)."""

    response_id: str | None = None
    response_model: str | None = None
    finish_reasons: list[str] = field(default_factory=list)
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    text: list[str] = field(default_factory=list)
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    has_usage: bool = False

    def usage(
        self,
        input_tokens: Any = None,
        output_tokens: Any = None,
        cache_read: Any = None,
        cache_write: Any = None,
        *,
        fill_only: bool = False,
    ) -> None:
        """Record token counts the response reported; `fill_only` keeps values already set."""
        for name, value in (
            ("input_tokens", input_tokens),
            ("output_tokens", output_tokens),
            ("cache_read_tokens", cache_read),
            ("cache_write_tokens", cache_write),
        ):
            if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                if fill_only and getattr(self, name) is not None:
                    continue
                setattr(self, name, value)
                self.has_usage = True

    def add_usage(self, input_tokens: Any, output_tokens: Any) -> None:
        """Add the tokens of one more model invocation (an agent makes several)."""
        for name, value in (("input_tokens", input_tokens), ("output_tokens", output_tokens)):
            if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                setattr(self, name, (getattr(self, name) or 0) + value)
                self.has_usage = True

    def finish(self, reason: Any) -> None:
        if isinstance(reason, str) and reason:
            self.finish_reasons.append(reason)

    def add_text(self, text: Any) -> None:
        if isinstance(text, str) and text:
            self.text.append(text)

    @property
    def total_input_tokens(self) -> int | None:
        """Input including cached input, as gen_ai.usage.input_tokens counts it."""
        if (
            self.input_tokens is None
            and self.cache_read_tokens is None
            and self.cache_write_tokens is None
        ):
            return None
        return (
            (self.input_tokens or 0)
            + (self.cache_read_tokens or 0)
            + (self.cache_write_tokens or 0)
        )

    def output_messages(self) -> list[dict[str, Any]]:
        """gen_ai.output.messages: one assistant message with the text and tool calls."""
        parts: list[dict[str, Any]] = []
        if self.text:
            parts.append({"type": "text", "content": "".join(self.text)})
        parts.extend(self.tool_calls)
        reason = self.finish_reasons[-1] if self.finish_reasons else ""
        return [
            {
                "role": "assistant",
                "parts": parts,
                "finish_reason": _FINISH_REASONS.get(reason.lower(), reason.lower() or "stop"),
            }
        ]
