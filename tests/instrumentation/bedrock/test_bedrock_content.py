"""Prompt and response text reach spans only with
OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from bedrock_harness import Driver, Telemetry

from routewatch.instrumentation import semconv

CONTENT_KEYS = (
    semconv.GEN_AI_INPUT_MESSAGES,
    semconv.GEN_AI_OUTPUT_MESSAGES,
    semconv.GEN_AI_SYSTEM_INSTRUCTIONS,
)
CONVERSE: dict[str, Any] = {
    "modelId": "anthropic.claude-3-5-sonnet-20240620-v1:0",
    "system": [{"text": "Be brief."}],
    "messages": [
        {"role": "user", "content": [{"text": "Hi"}]},
        {
            "role": "assistant",
            "content": [{"toolUse": {"toolUseId": "t1", "name": "lookup", "input": {"q": "x"}}}],
        },
        {
            "role": "user",
            "content": [{"toolResult": {"toolUseId": "t1", "content": [{"text": "found"}]}}],
        },
    ],
}
EXPECTED_INPUT = [
    {"role": "user", "parts": [{"type": "text", "content": "Hi"}]},
    {
        "role": "assistant",
        "parts": [{"type": "tool_call", "id": "t1", "name": "lookup", "arguments": {"q": "x"}}],
    },
    {
        "role": "user",
        "parts": [{"type": "tool_call_response", "id": "t1", "response": [{"text": "found"}]}],
    },
]


def expected_output(answer: str) -> list[dict[str, Any]]:
    """gen_ai.output.messages for the answer text the app received."""
    return [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": answer}],
            "finish_reason": "stop",
        }
    ]


def converse_text(result: dict[str, Any]) -> str:
    return "".join(block["text"] for block in result["output"]["message"]["content"])


def stream_text(events: list[dict[str, Any]]) -> str:
    return "".join(
        e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e
    )


def _content(telemetry: Telemetry) -> dict[str, Any]:
    attributes = telemetry.span().attributes or {}
    return {key: json.loads(attributes[key]) for key in CONTENT_KEYS if key in attributes}


@pytest.mark.parametrize("value", [None, "false", "NO_CONTENT", "yes"])
def test_no_content_unless_opted_in(
    value: str | None,
    driver: Driver,
    telemetry: Telemetry,
    instrument: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if value is None:
        monkeypatch.delenv(
            semconv.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT, raising=False
        )
    else:
        monkeypatch.setenv(semconv.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT, value)
    instrument()

    driver.converse(**CONVERSE)
    driver.converse_stream(**CONVERSE)
    driver.invoke(
        "anthropic.claude-3-haiku-20240307-v1:0",
        {
            "anthropic_version": "bedrock-2023-05-31",
            "max_tokens": 9,
            "messages": [{"role": "user", "content": "Hi"}],
        },
    )

    spans = telemetry.spans()
    assert len(spans) == 3
    for span in spans:
        assert not set(CONTENT_KEYS) & set(span.attributes or {})
        assert "Hi" not in str(dict(span.attributes or {}))


@pytest.fixture
def capturing(instrument: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(semconv.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT, "true")
    instrument()


def test_converse_content(driver: Driver, telemetry: Telemetry, capturing: None) -> None:
    answer = converse_text(driver.converse(**CONVERSE))

    assert answer
    assert _content(telemetry) == {
        semconv.GEN_AI_SYSTEM_INSTRUCTIONS: [{"type": "text", "content": "Be brief."}],
        semconv.GEN_AI_INPUT_MESSAGES: EXPECTED_INPUT,
        semconv.GEN_AI_OUTPUT_MESSAGES: expected_output(answer),
    }


def test_converse_stream_content(driver: Driver, telemetry: Telemetry, capturing: None) -> None:
    answer = stream_text(driver.converse_stream(**CONVERSE))

    content = _content(telemetry)
    assert content[semconv.GEN_AI_INPUT_MESSAGES] == EXPECTED_INPUT
    assert content[semconv.GEN_AI_OUTPUT_MESSAGES] == expected_output(answer)  # deltas joined


@pytest.mark.parametrize("stream", [False, True], ids=["invoke", "invoke-stream"])
def test_claude_body_content(
    stream: bool, driver: Driver, telemetry: Telemetry, capturing: None
) -> None:
    body = {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 9,
        "system": "Be brief.",
        "messages": [{"role": "user", "content": "Hi"}],
    }
    model = "anthropic.claude-3-haiku-20240307-v1:0"
    if stream:
        chunks = driver.invoke_stream(model, body)
        answer = "".join(c["delta"]["text"] for c in chunks if c["type"] == "content_block_delta")
    else:
        answer = driver.invoke(model, body)["content"][0]["text"]

    assert answer
    assert _content(telemetry) == {
        semconv.GEN_AI_SYSTEM_INSTRUCTIONS: [{"type": "text", "content": "Be brief."}],
        semconv.GEN_AI_INPUT_MESSAGES: [
            {"role": "user", "parts": [{"type": "text", "content": "Hi"}]}
        ],
        semconv.GEN_AI_OUTPUT_MESSAGES: expected_output(answer),
    }


def test_cohere_command_r_history_and_preamble(
    driver: Driver, telemetry: Telemetry, capturing: None
) -> None:
    body = driver.invoke(
        "cohere.command-r-v1:0",
        {
            "message": "Hi",
            "preamble": "Be brief.",
            "chat_history": [{"role": "CHATBOT", "message": "Hello"}],
        },
    )

    content = _content(telemetry)
    assert content[semconv.GEN_AI_SYSTEM_INSTRUCTIONS] == [{"type": "text", "content": "Be brief."}]
    assert content[semconv.GEN_AI_INPUT_MESSAGES] == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Hello"}]},
        {"role": "user", "parts": [{"type": "text", "content": "Hi"}]},
    ]
    assert content[semconv.GEN_AI_OUTPUT_MESSAGES] == expected_output(body["text"])


def test_completion_prompt_content(driver: Driver, telemetry: Telemetry, capturing: None) -> None:
    chunks = driver.invoke_stream("meta.llama3-8b-instruct-v1:0", {"prompt": "Hi"})
    answer = "".join(chunk["generation"] for chunk in chunks)

    content = _content(telemetry)
    assert content[semconv.GEN_AI_INPUT_MESSAGES] == [
        {"role": "user", "parts": [{"type": "text", "content": "Hi"}]}
    ]
    assert content[semconv.GEN_AI_OUTPUT_MESSAGES] == expected_output(answer)
