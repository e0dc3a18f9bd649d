"""Prompt and response text in the shape of gen_ai.input.messages / gen_ai.system_instructions.

Only built when the user opted in (OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT).
Converse, Nova and Anthropic content blocks are told apart by their keys; blocks other than
text, tool calls and tool results (images, documents) are left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

Part = dict[str, Any]
Message = dict[str, Any]


def text_part(text: str) -> Part:
    return {"type": "text", "content": text}


def part(block: Any) -> Part | None:
    """One content block (Converse, Nova or Anthropic style) as a message part."""
    if isinstance(block, str):
        return text_part(block)
    if not isinstance(block, Mapping):
        return None
    if isinstance(block.get("text"), str):
        return text_part(block["text"])
    if isinstance(block.get("toolUse"), Mapping):
        use = block["toolUse"]
        return tool_call(use.get("toolUseId"), use.get("name"), use.get("input"))
    if block.get("type") == "tool_use":
        return tool_call(block.get("id"), block.get("name"), block.get("input"))
    if isinstance(block.get("toolResult"), Mapping):
        result = block["toolResult"]
        return {
            "type": "tool_call_response",
            "id": result.get("toolUseId"),
            "response": result.get("content"),
        }
    if block.get("type") == "tool_result":
        return {
            "type": "tool_call_response",
            "id": block.get("tool_use_id"),
            "response": block.get("content"),
        }
    return None


def tool_call(call_id: Any, name: Any, arguments: Any) -> Part:
    return {"type": "tool_call", "id": call_id, "name": name, "arguments": arguments}


def parts(content: Any) -> list[Part]:
    """Parts of a message's content: a string or a list of blocks."""
    if isinstance(content, str):
        return [text_part(content)]
    if not isinstance(content, Iterable) or isinstance(content, Mapping | bytes):
        return []
    return [p for p in map(part, content) if p is not None]


def messages(items: Any, role_key: str = "role", content_key: str = "content") -> list[Message]:
    """Chat messages (a list of {role, content}) as gen_ai.input.messages."""
    if not isinstance(items, list):
        return []
    out: list[Message] = []
    for item in items:
        if isinstance(item, Mapping):
            role = str(item.get(role_key, "user")).lower()
            out.append(
                {
                    "role": "assistant" if role == "chatbot" else role,
                    "parts": parts(item.get(content_key)),
                }
            )
    return out


def user_prompt(prompt: Any) -> list[Message]:
    """A completion-style prompt as one user message."""
    return [{"role": "user", "parts": [text_part(prompt)]}] if isinstance(prompt, str) else []
