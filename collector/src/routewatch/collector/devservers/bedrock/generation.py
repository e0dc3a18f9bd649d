"""What the local model "generates": deterministic text and token counts for one request."""

from __future__ import annotations

import math
from dataclasses import dataclass

_ANSWER = (
    "The route is healthy and the latest audit found no open issues; "
    "check the dashboard, confirm the alarms and review the runbook before the next change."
)
_WORDS = tuple(_ANSWER.split(" "))


@dataclass(frozen=True)
class Prompt:
    """What a request body asks for, in family-neutral terms."""

    text: str
    max_tokens: int | None = None
    temperature: float | None = None


@dataclass(frozen=True)
class Generation:
    """One model answer: its text (also split into stream pieces) and its usage."""

    request_id: str
    model_id: str
    pieces: tuple[str, ...]
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    truncated: bool = False  # stopped at max_tokens
    stop_reason: str = ""  # a forced Converse stop reason (e.g. content_filtered), else derived
    latency_ms: int = 0

    @property
    def text(self) -> str:
        return "".join(self.pieces)


def estimate_input_tokens(text: str) -> int:
    """About four characters a token, as Bedrock's own guidance for English text."""
    return max(1, math.ceil(len(text) / 4))


def answer_pieces(output_tokens: int, chunk_count: int) -> tuple[str, ...]:
    """`output_tokens` words (one word = one token here) split into up to `chunk_count` pieces."""
    words = [_WORDS[i % len(_WORDS)] for i in range(max(0, output_tokens))]
    if not words:
        return ("",)
    count = max(1, min(chunk_count, len(words)))
    size = math.ceil(len(words) / count)
    groups = [words[i : i + size] for i in range(0, len(words), size)]
    return tuple((" " if i else "") + " ".join(group) for i, group in enumerate(groups))
