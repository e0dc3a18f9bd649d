"""The local Bedrock server through real boto3 and aiobotocore clients over HTTP."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import urllib.request
from collections.abc import Callable
from typing import Any

import aiobotocore.session
import pytest
from botocore.config import Config
from botocore.eventstream import ChecksumMismatch, EventStreamBuffer
from botocore.exceptions import ClientError, EventStreamError
from support.clocks import ManualClock

from routewatch.collector.devservers.bedrock import (
    ERRORS,
    BedrockControl,
    BedrockServer,
    ControlError,
    Fault,
    ServerState,
    bedrock_server,
)
from routewatch.collector.devservers.bedrock.faults import STREAM_EXCEPTIONS
from routewatch.collector.devservers.latency import Latency

TWELVE_WORDS = "The route is healthy and the latest audit found no open issues;"
PROMPT = "Audit the route"

# family -> (model id, InvokeModel request body)
FAMILIES: dict[str, tuple[str, dict[str, Any]]] = {
    "anthropic": (
        "anthropic.claude-3-5-sonnet-20240620-v1:0",
        {
            "anthropic_version": "bedrock-2023-05-31",
            "max_tokens": 100,
            "messages": [{"role": "user", "content": [{"type": "text", "text": PROMPT}]}],
        },
    ),
    "nova": (
        "amazon.nova-lite-v1:0",
        {
            "schemaVersion": "messages-v1",
            "messages": [{"role": "user", "content": [{"text": PROMPT}]}],
            "inferenceConfig": {"maxTokens": 100},
        },
    ),
    "titan": (
        "amazon.titan-text-express-v1",
        {"inputText": PROMPT, "textGenerationConfig": {"maxTokenCount": 100}},
    ),
    "llama": ("meta.llama3-1-8b-instruct-v1:0", {"prompt": PROMPT, "max_gen_len": 100}),
    "mistral": ("mistral.mistral-7b-instruct-v0:2", {"prompt": PROMPT, "max_tokens": 100}),
    "mistral_chat": (
        "mistral.mistral-large-2407-v1:0",
        {"messages": [{"role": "user", "content": PROMPT}], "max_tokens": 100},
    ),
    "cohere": ("cohere.command-r-plus-v1:0", {"message": PROMPT, "max_tokens": 100}),
    "cohere_generate": ("cohere.command-text-v14", {"prompt": PROMPT, "max_tokens": 100}),
}

# family -> body -> (text, stop reason, output tokens or None when the family has none in the body)
BODY: dict[str, Callable[[dict[str, Any]], tuple[str, str, int | None]]] = {
    "anthropic": lambda b: (b["content"][0]["text"], b["stop_reason"], b["usage"]["output_tokens"]),
    "nova": lambda b: (
        b["output"]["message"]["content"][0]["text"],
        b["stopReason"],
        b["usage"]["outputTokens"],
    ),
    "titan": lambda b: (
        b["results"][0]["outputText"],
        b["results"][0]["completionReason"],
        b["results"][0]["tokenCount"],
    ),
    "llama": lambda b: (b["generation"], b["stop_reason"], b["generation_token_count"]),
    "mistral": lambda b: (b["outputs"][0]["text"], b["outputs"][0]["stop_reason"], None),
    "mistral_chat": lambda b: (
        b["choices"][0]["message"]["content"],
        b["choices"][0]["stop_reason"],
        None,
    ),
    "cohere": lambda b: (
        b["text"],
        b["finish_reason"],
        b["meta"]["billed_units"]["output_tokens"],
    ),
    "cohere_generate": lambda b: (
        b["generations"][0]["text"],
        b["generations"][0]["finish_reason"],
        None,
    ),
}
FINISHED = {
    "anthropic": "end_turn",
    "nova": "end_turn",
    "titan": "FINISH",
    "llama": "stop",
    "mistral": "stop",
    "mistral_chat": "stop",
    "cohere": "COMPLETE",
    "cohere_generate": "COMPLETE",
}


def _stream_text(family: str, chunk: dict[str, Any]) -> str:
    if family == "anthropic":
        return str(chunk["delta"]["text"]) if chunk["type"] == "content_block_delta" else ""
    if family == "nova":
        return (
            str(chunk["contentBlockDelta"]["delta"]["text"]) if "contentBlockDelta" in chunk else ""
        )
    if family == "titan":
        return str(chunk["outputText"])
    if family == "llama":
        return str(chunk["generation"])
    if family == "mistral":
        return str(chunk["outputs"][0]["text"])
    if family == "mistral_chat":
        return str(chunk["choices"][0]["message"]["content"])
    if family == "cohere":
        return str(chunk["text"]) if chunk["event_type"] == "text-generation" else ""
    return str(chunk["text"])


def _aio_client(bedrock: BedrockServer) -> Any:
    """An aiobotocore bedrock-runtime client at the server, without retries."""
    return aiobotocore.session.get_session().create_client(
        "bedrock-runtime",
        endpoint_url=bedrock.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"total_max_attempts": 1}),
    )


def _converse(client: Any, model_id: str = "amazon.nova-lite-v1:0", **kwargs: Any) -> Any:
    return client.converse(
        modelId=model_id,
        messages=[{"role": "user", "content": [{"text": PROMPT}]}],
        **kwargs,
    )


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_converse_every_family(bedrock: BedrockServer, client: Any, family: str) -> None:
    bedrock.configure(output_tokens=12, input_tokens=7)
    response = _converse(client, FAMILIES[family][0], inferenceConfig={"maxTokens": 100})
    assert response["output"]["message"] == {
        "role": "assistant",
        "content": [{"text": TWELVE_WORDS}],
    }
    assert response["stopReason"] == "end_turn"
    assert response["usage"] == {"inputTokens": 7, "outputTokens": 12, "totalTokens": 19}
    assert "latencyMs" in response["metrics"]


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_converse_stream_every_family(bedrock: BedrockServer, client: Any, family: str) -> None:
    bedrock.configure(output_tokens=12, input_tokens=7, chunk_count=3)
    response = client.converse_stream(
        modelId=FAMILIES[family][0], messages=[{"role": "user", "content": [{"text": PROMPT}]}]
    )
    events = list(response["stream"])
    kinds = [next(iter(e)) for e in events]
    assert kinds == ["messageStart"] + ["contentBlockDelta"] * 3 + [
        "contentBlockStop",
        "messageStop",
        "metadata",
    ]
    text = "".join(e["contentBlockDelta"]["delta"]["text"] for e in events[1:4])
    assert text == TWELVE_WORDS
    assert events[-2]["messageStop"]["stopReason"] == "end_turn"
    assert events[-1]["metadata"]["usage"] == {
        "inputTokens": 7,
        "outputTokens": 12,
        "totalTokens": 19,
    }


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_invoke_model_every_family(bedrock: BedrockServer, client: Any, family: str) -> None:
    bedrock.configure(output_tokens=12, input_tokens=7)
    model_id, body = FAMILIES[family]
    response = client.invoke_model(modelId=model_id, body=json.dumps(body))
    assert response["contentType"] == "application/json"
    headers = response["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amzn-bedrock-input-token-count"] == "7"
    assert headers["x-amzn-bedrock-output-token-count"] == "12"
    text, stop, output_tokens = BODY[family](json.loads(response["body"].read()))
    assert text == TWELVE_WORDS
    assert stop == FINISHED[family]
    assert output_tokens in (12, None)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_invoke_model_with_response_stream_every_family(
    bedrock: BedrockServer, client: Any, family: str
) -> None:
    bedrock.configure(output_tokens=12, input_tokens=7, chunk_count=4)
    model_id, body = FAMILIES[family]
    response = client.invoke_model_with_response_stream(modelId=model_id, body=json.dumps(body))
    assert response["contentType"] == "application/json"
    chunks = [json.loads(event["chunk"]["bytes"]) for event in response["body"]]
    assert "".join(_stream_text(family, c) for c in chunks) == TWELVE_WORDS
    assert chunks[-1]["amazon-bedrock-invocationMetrics"]["inputTokenCount"] == 7
    assert chunks[-1]["amazon-bedrock-invocationMetrics"]["outputTokenCount"] == 12
    assert all("amazon-bedrock-invocationMetrics" not in c for c in chunks[:-1])


@pytest.mark.parametrize(
    "model_id",
    [
        "us.anthropic.claude-3-5-sonnet-20240620-v1:0",
        "global.anthropic.claude-sonnet-4-20250514-v1:0",
        "apac.anthropic.claude-3-haiku-20240307-v1:0",
        "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0",
        "arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.anthropic.claude-3-haiku-20240307-v1:0",
    ],
)
def test_model_id_forms(bedrock: BedrockServer, client: Any, model_id: str) -> None:
    response = client.invoke_model(modelId=model_id, body=json.dumps(FAMILIES["anthropic"][1]))
    assert json.loads(response["body"].read())["type"] == "message"
    assert bedrock.records()[-1].model_id == model_id


def test_anthropic_body_names_the_model_and_message_id(client: Any) -> None:
    response = client.invoke_model(
        modelId="us.anthropic.claude-3-haiku-20240307-v1:0",
        body=json.dumps(FAMILIES["anthropic"][1]),
    )
    body = json.loads(response["body"].read())
    assert body["model"] == "claude-3-haiku-20240307"
    assert body["id"].startswith("msg_bdrk_")
    assert body["role"] == "assistant"


def test_max_tokens_cuts_the_answer(bedrock: BedrockServer, client: Any) -> None:
    response = _converse(client, inferenceConfig={"maxTokens": 5, "temperature": 0.3})
    assert response["stopReason"] == "max_tokens"
    assert response["usage"]["outputTokens"] == 5
    assert (bedrock.records()[-1].max_tokens, bedrock.records()[-1].temperature) == (5, 0.3)
    body = dict(FAMILIES["titan"][1], textGenerationConfig={"maxTokenCount": 5})
    result = json.loads(
        client.invoke_model(modelId=FAMILIES["titan"][0], body=json.dumps(body))["body"].read()
    )
    assert result["results"][0]["completionReason"] == "LENGTH"
    assert result["results"][0]["tokenCount"] == 5


def test_output_token_range_is_seeded(bedrock: BedrockServer, client: Any) -> None:
    def counts() -> list[int]:
        bedrock.configure(output_tokens=10, output_tokens_max=20, seed=3)
        return [_converse(client)["usage"]["outputTokens"] for _ in range(8)]

    first = counts()
    assert all(10 <= n <= 20 for n in first)
    assert len(set(first)) > 1
    assert counts() == first


def test_converse_cache_tokens(bedrock: BedrockServer, client: Any) -> None:
    assert "cacheReadInputTokens" not in _converse(client)["usage"]
    bedrock.configure(input_tokens=7, output_tokens=12, cache_read_tokens=30, cache_write_tokens=10)
    usage = _converse(client)["usage"]
    assert usage == {
        "inputTokens": 7,
        "outputTokens": 12,
        "totalTokens": 59,
        "cacheReadInputTokens": 30,
        "cacheWriteInputTokens": 10,
    }
    stream = client.converse_stream(
        modelId="amazon.nova-lite-v1:0", messages=[{"role": "user", "content": [{"text": "x"}]}]
    )
    assert list(stream["stream"])[-1]["metadata"]["usage"]["cacheReadInputTokens"] == 30
    claude = client.invoke_model(
        modelId=FAMILIES["anthropic"][0], body=json.dumps(FAMILIES["anthropic"][1])
    )
    claude_usage = json.loads(claude["body"].read())["usage"]
    assert claude_usage["cache_read_input_tokens"] == 30
    assert claude_usage["cache_creation_input_tokens"] == 10
    nova = client.invoke_model(modelId=FAMILIES["nova"][0], body=json.dumps(FAMILIES["nova"][1]))
    assert json.loads(nova["body"].read())["usage"]["cacheWriteInputTokenCount"] == 10


def test_unsuccessful_stop_reason_is_configurable(bedrock: BedrockServer, client: Any) -> None:
    bedrock.configure(stop_reason="content_filtered")
    assert _converse(client)["stopReason"] == "content_filtered"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda c: _converse(c, "amazon.titan-embed-text-v2:0"),
            "The provided model identifier is invalid.",
        ),
        (
            lambda c: c.converse(modelId="amazon.nova-lite-v1:0", messages=[]),
            "must start with a user message",
        ),
        (
            lambda c: c.converse(
                modelId="amazon.nova-lite-v1:0",
                messages=[{"role": "assistant", "content": [{"text": "hi"}]}],
            ),
            "must start with a user message",
        ),
        (
            lambda c: _converse(c, inferenceConfig={"temperature": 3.0}),
            "inferenceConfig.temperature",
        ),
        (
            lambda c: c.invoke_model(
                modelId=FAMILIES["anthropic"][0],
                body=json.dumps({"anthropic_version": "bedrock-2023-05-31", "messages": []}),
            ),
            "required key [max_tokens] not found",
        ),
        (
            lambda c: c.invoke_model(modelId=FAMILIES["llama"][0], body=b"not json"),
            "Malformed input request",
        ),
        (
            lambda c: c.invoke_model(modelId=FAMILIES["llama"][0], body=b"[1]"),
            "expected type: JSONObject",
        ),
    ],
)
def test_bad_requests_get_validation_exception(client: Any, call: Any, message: str) -> None:
    with pytest.raises(ClientError) as info:
        call(client)
    assert info.value.response["Error"]["Code"] == "ValidationException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert message in info.value.response["Error"]["Message"]


@pytest.mark.parametrize("kind", sorted(ERRORS))
def test_each_injected_error_in_the_wire_format(
    bedrock: BedrockServer, client: Any, kind: str
) -> None:
    code, status, message = ERRORS[kind]
    bedrock.inject(kind)
    with pytest.raises(ClientError) as info:
        _converse(client)
    error = info.value.response
    assert error["Error"]["Code"] == code
    assert error["Error"]["Message"] == message
    assert error["ResponseMetadata"]["HTTPStatusCode"] == status
    assert error["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"].startswith(f"{code}:")
    # botocore maps the code to the modeled exception class of the service.
    assert type(info.value).__name__ == code
    assert _converse(client)["stopReason"] == "end_turn"  # one time only


def test_errors_on_streaming_operations_raise_before_the_stream(
    bedrock: BedrockServer, client: Any
) -> None:
    bedrock.inject("throttling", operation="converse-stream")
    bedrock.inject("service_unavailable", operation="invoke-with-response-stream")
    with pytest.raises(ClientError, match="ThrottlingException"):
        client.converse_stream(
            modelId="amazon.nova-lite-v1:0", messages=[{"role": "user", "content": [{"text": "x"}]}]
        )
    with pytest.raises(ClientError, match="ServiceUnavailableException"):
        client.invoke_model_with_response_stream(
            modelId=FAMILIES["llama"][0], body=json.dumps(FAMILIES["llama"][1])
        )


def test_status_and_message_of_a_fault_can_be_overridden(
    bedrock: BedrockServer, client: Any
) -> None:
    bedrock.inject("model_not_ready", status=503, message="warming up")
    with pytest.raises(ClientError) as info:
        _converse(client)
    assert info.value.response["Error"] == {
        "Message": "warming up",
        "Code": "ModelNotReadyException",
    }
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503


def test_fault_filters_and_counts(bedrock: BedrockServer, client: Any) -> None:
    bedrock.inject("throttling", operation="invoke", times=2)
    bedrock.inject("internal", model="meta.llama", times=0)
    assert _converse(client)["stopReason"] == "end_turn"
    nova = (FAMILIES["nova"][0], json.dumps(FAMILIES["nova"][1]))
    for _ in range(2):
        with pytest.raises(ClientError, match="ThrottlingException"):
            client.invoke_model(modelId=nova[0], body=nova[1])
    assert client.invoke_model(modelId=nova[0], body=nova[1])["contentType"] == "application/json"
    for _ in range(3):  # times=0: until cleared
        with pytest.raises(ClientError, match="InternalServerException"):
            _converse(client, FAMILIES["llama"][0])
    bedrock.clear_faults()
    assert _converse(client, FAMILIES["llama"][0])["stopReason"] == "end_turn"


def test_fault_rate_is_seeded(bedrock: BedrockServer, client: Any) -> None:
    def failures() -> list[bool]:
        bedrock.reset()
        bedrock.configure(seed=11)
        bedrock.inject("throttling", times=0, rate=0.5)
        out = []
        for _ in range(20):
            try:
                _converse(client)
                out.append(False)
            except ClientError:
                out.append(True)
        return out

    first = failures()
    assert 0 < sum(first) < 20
    assert failures() == first


def test_botocore_retries_through_transient_throttling(bedrock: BedrockServer) -> None:
    retrying = bedrock.client(config=Config(retries={"mode": "standard", "max_attempts": 3}))
    bedrock.inject("throttling", times=2)
    assert _converse(retrying)["stopReason"] == "end_turn"
    assert [r.status for r in bedrock.records()] == [429, 429, 200]


@pytest.mark.parametrize("exception", STREAM_EXCEPTIONS)
def test_converse_stream_breaks_with_an_exception_event(
    bedrock: BedrockServer, client: Any, exception: str
) -> None:
    bedrock.inject("stream_break", after_chunks=2, stream_exception=exception)
    response = client.converse_stream(
        modelId="amazon.nova-lite-v1:0", messages=[{"role": "user", "content": [{"text": "x"}]}]
    )
    received = []
    with pytest.raises(EventStreamError) as info:
        for event in response["stream"]:
            received.append(next(iter(event)))
    assert received == ["messageStart", "contentBlockDelta"]
    assert info.value.response["Error"]["Code"] == exception
    assert bedrock.records()[-1].error == exception


def test_invoke_stream_breaks_with_model_stream_error(bedrock: BedrockServer, client: Any) -> None:
    bedrock.inject("stream_break", after_chunks=3, message="model crashed")
    response = client.invoke_model_with_response_stream(
        modelId=FAMILIES["anthropic"][0], body=json.dumps(FAMILIES["anthropic"][1])
    )
    received = []
    with pytest.raises(EventStreamError) as info:
        for event in response["body"]:
            received.append(json.loads(event["chunk"]["bytes"])["type"])
    assert received == ["message_start", "content_block_start", "content_block_delta"]
    error = info.value.response["Error"]
    assert (error["Code"], error["Message"]) == ("modelStreamErrorException", "model crashed")


@pytest.mark.parametrize("operation", ["converse-stream", "invoke-with-response-stream"])
def test_stream_cut_midway(bedrock: BedrockServer, client: Any, operation: str) -> None:
    bedrock.inject("stream_break", mode="cut", after_chunks=2, operation=operation)
    if operation == "converse-stream":
        stream = client.converse_stream(
            modelId="amazon.nova-lite-v1:0", messages=[{"role": "user", "content": [{"text": "x"}]}]
        )["stream"]
    else:
        stream = client.invoke_model_with_response_stream(
            modelId=FAMILIES["llama"][0], body=json.dumps(FAMILIES["llama"][1])
        )["body"]
    received = []
    with pytest.raises(Exception) as info:  # what urllib3/botocore raise for a truncated body
        for event in stream:
            received.append(event)
    assert not isinstance(info.value, EventStreamError)
    assert len(received) == 2
    assert bedrock.records()[-1].error == "connection_cut"


def test_stream_break_does_not_touch_non_streaming_calls(
    bedrock: BedrockServer, client: Any
) -> None:
    bedrock.inject("stream_break")
    assert _converse(client)["stopReason"] == "end_turn"
    assert bedrock.state.stats()["faults_pending"] == 1


def _raw_stream(url: str, path: str, body: dict[str, Any]) -> bytes:
    request = urllib.request.Request(
        f"{url}{path}", data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.headers["Content-Type"] == "application/vnd.amazon.eventstream"
        return bytes(response.read())


def test_event_stream_framing_parsed_by_botocore(bedrock: BedrockServer) -> None:
    bedrock.configure(chunk_count=2)
    raw = _raw_stream(
        bedrock.url,
        "/model/amazon.nova-lite-v1%3A0/converse-stream",
        {"messages": [{"role": "user", "content": [{"text": "x"}]}]},
    )
    buffer = EventStreamBuffer()
    buffer.add_data(raw)
    messages = list(buffer)
    assert [m.headers[":event-type"] for m in messages] == [
        "messageStart", "contentBlockDelta", "contentBlockDelta",
        "contentBlockStop", "messageStop", "metadata",
    ]  # fmt: skip
    for message in messages:
        assert message.headers[":message-type"] == "event"
        assert message.headers[":content-type"] == "application/json"
        # Bedrock pads payloads with "p"; clients ignore it.
        assert "p" in json.loads(message.payload)
    assert sum(m.prelude.total_length for m in messages) == len(raw)

    corrupt = bytearray(raw)
    corrupt[20] ^= 0xFF
    broken = EventStreamBuffer()
    broken.add_data(bytes(corrupt))
    with pytest.raises(ChecksumMismatch):
        list(broken)


def test_invoke_stream_chunks_carry_base64_bytes(bedrock: BedrockServer) -> None:
    raw = _raw_stream(
        bedrock.url,
        "/model/meta.llama3-1-8b-instruct-v1%3A0/invoke-with-response-stream",
        FAMILIES["llama"][1],
    )
    buffer = EventStreamBuffer()
    buffer.add_data(raw)
    messages = list(buffer)
    assert {m.headers[":event-type"] for m in messages} == {"chunk"}
    first = json.loads(base64.b64decode(json.loads(messages[0].payload)["bytes"]))
    assert first["prompt_token_count"] > 0


def test_latency_is_applied_and_reported(bedrock: BedrockServer, client: Any) -> None:
    bedrock.configure(latency="fixed:0.02")
    assert _converse(client)["metrics"]["latencyMs"] == 20
    assert bedrock.records()[-1].delay == pytest.approx(0.02)


@pytest.mark.parametrize("spec", ["uniform:0.01:0.2", "lognormal:0.1:0.5", "fixed:0.05"])
def test_latency_distributions_are_seeded(spec: str) -> None:
    first = [Latency.parse(spec, seed=5).sample() for _ in range(1)]
    dist_a, dist_b = Latency.parse(spec, seed=5), Latency.parse(spec, seed=5)
    a = [dist_a.sample() for _ in range(50)]
    assert a == [dist_b.sample() for _ in range(50)]
    assert a[0] == first[0]
    assert all(x >= 0 for x in a)
    if spec.startswith("uniform"):
        assert all(0.01 <= x <= 0.2 for x in a)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("gamma:1:2", "unknown distribution 'gamma'"),
        ("uniform:0.2:0.1", "upper bound below lower bound"),
        ("uniform:0.1", "takes 2 parameter(s)"),
        ("fast", "not a number"),
        ("fixed:-1", "must not be negative"),
    ],
)
def test_bad_latency_specs(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match="latency: ") as info:
        Latency.parse(spec)
    assert message in str(info.value)


def test_incident_adds_latency_and_throttles_for_its_duration(clock: ManualClock) -> None:
    with bedrock_server(state=ServerState(clock=clock)) as srv:
        client = srv.client(config=Config(retries={"total_max_attempts": 1}))
        srv.incident(add_latency=0.01, duration=30)
        _converse(client)
        assert srv.records()[-1].delay == pytest.approx(0.01)
        assert srv.state.stats()["incident"]["add_latency"] == 0.01
        clock.advance(30)
        _converse(client)
        assert srv.records()[-1].delay == 0
        assert not srv.state.incident_active()

        srv.incident(add_latency=0.0, throttle_rate=1.0)  # until ended
        clock.advance(3600)
        with pytest.raises(ClientError, match="ThrottlingException"):
            _converse(client)
        srv.end_incident()
        assert _converse(client)["stopReason"] == "end_turn"


def test_http_control_api(bedrock: BedrockServer, client: Any) -> None:
    control = BedrockControl(bedrock.url)
    assert control.inject("throttling", times=1)["kind"] == "throttling"
    with pytest.raises(ClientError, match="ThrottlingException"):
        _converse(client)
    control.configure(output_tokens=5)
    assert _converse(client)["usage"]["outputTokens"] == 5
    control.incident(add_latency=0.01, duration=60)
    assert control.stats()["incident"]["add_latency"] == 0.01
    control.end_incident()
    assert control.stats()["incident"] is None
    control.inject("internal", times=0)
    control.clear_faults()
    assert _converse(client)["stopReason"] == "end_turn"
    records = control.records()
    assert [r["status"] for r in records] == [429, 200, 200]
    control.reset()
    assert control.records() == []
    assert control.stats()["behaviour"]["output_tokens"] == 48


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c: c.inject("meltdown"), "fault::kind: invalid value 'meltdown'"),
        (lambda c: c.inject("throttling", operation="chat"), "operation must be one of"),
        (lambda c: c.inject("throttling", rate=2), "rate must be within [0, 1]"),
        (lambda c: c.inject("throttling", colour="red"), "fault: has invalid keys: colour"),
        (lambda c: c.configure(bogus=1), "behaviour: has invalid keys: bogus"),
        (lambda c: c.configure(latency="weird:1"), "unknown distribution 'weird'"),
        (lambda c: c.configure(chunk_count=0), "chunk_count must be >= 1"),
        (lambda c: c.incident(add_latency=1, throttle_rate=5), "throttle_rate must be within"),
    ],
)
def test_http_control_api_rejects_bad_input(
    bedrock: BedrockServer, call: Any, message: str
) -> None:
    with pytest.raises(ControlError) as info:
        call(BedrockControl(bedrock.url))
    assert message in str(info.value)
    assert ": 400 " in str(info.value)


def test_python_api_rejects_bad_faults(bedrock: BedrockServer) -> None:
    with pytest.raises(ValueError, match="after_chunks must be >= 0"):
        bedrock.inject("stream_break", after_chunks=-1)
    with pytest.raises(ValueError, match="stream_exception must be one of"):
        bedrock.state.inject(Fault("stream_break", stream_exception="oops"))


def test_runs_as_a_subprocess() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "routewatch.collector.devservers.bedrock", "--port", "0",
         "--output-tokens", "9", "--latency", "fixed:0.001"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("bedrock-runtime listening on http://127.0.0.1:")
        url = line.split()[-1]
        srv = BedrockServer(url=url, state=ServerState())
        client = srv.client(config=Config(retries={"total_max_attempts": 1}))
        assert _converse(client)["usage"]["outputTokens"] == 9
        control = BedrockControl(url)
        control.inject("validation", message="bad prompt")
        with pytest.raises(ClientError, match="bad prompt"):
            _converse(client)
        control.configure(output_tokens=3)
        control.reset()  # back to the behaviour the server started with
        assert _converse(client)["usage"]["outputTokens"] == 9
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0


def test_subprocess_rejects_bad_arguments() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "routewatch.collector.devservers.bedrock", "--latency", "slow"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "latency: 'slow' is not a number" in result.stderr


async def test_aiobotocore_client_every_operation(bedrock: BedrockServer) -> None:
    bedrock.configure(output_tokens=12, input_tokens=7, chunk_count=3)
    async with _aio_client(bedrock) as client:
        messages = [{"role": "user", "content": [{"text": PROMPT}]}]
        response = await client.converse(modelId="amazon.nova-lite-v1:0", messages=messages)
        assert response["output"]["message"]["content"][0]["text"] == TWELVE_WORDS

        stream = await client.converse_stream(modelId="amazon.nova-lite-v1:0", messages=messages)
        events = [event async for event in stream["stream"]]
        assert events[-1]["metadata"]["usage"]["outputTokens"] == 12

        model_id, body = FAMILIES["anthropic"]
        invoked = await client.invoke_model(modelId=model_id, body=json.dumps(body))
        assert json.loads(await invoked["body"].read())["usage"]["output_tokens"] == 12

        streamed = await client.invoke_model_with_response_stream(
            modelId=model_id, body=json.dumps(body)
        )
        chunks = [json.loads(e["chunk"]["bytes"]) async for e in streamed["body"]]
        assert "".join(_stream_text("anthropic", c) for c in chunks) == TWELVE_WORDS

        bedrock.inject("throttling")
        with pytest.raises(ClientError) as info:
            await client.converse(modelId="amazon.nova-lite-v1:0", messages=messages)
        assert info.value.response["Error"]["Code"] == "ThrottlingException"

        bedrock.inject("stream_break", after_chunks=1, stream_exception="throttlingException")
        stream = await client.converse_stream(modelId="amazon.nova-lite-v1:0", messages=messages)
        with pytest.raises(EventStreamError, match="throttlingException"):
            async for _ in stream["stream"]:
                pass


@pytest.mark.parametrize("family", sorted(FAMILIES))
async def test_aiobotocore_invoke_every_family(bedrock: BedrockServer, family: str) -> None:
    bedrock.configure(output_tokens=12, input_tokens=7, chunk_count=3)
    model_id, body = FAMILIES[family]
    async with _aio_client(bedrock) as client:
        invoked = await client.invoke_model(modelId=model_id, body=json.dumps(body))
        text, stop, _ = BODY[family](json.loads(await invoked["body"].read()))
        assert (text, stop) == (TWELVE_WORDS, FINISHED[family])
        streamed = await client.invoke_model_with_response_stream(
            modelId=model_id, body=json.dumps(body)
        )
        chunks = [json.loads(e["chunk"]["bytes"]) async for e in streamed["body"]]
        assert "".join(_stream_text(family, c) for c in chunks) == TWELVE_WORDS
        assert chunks[-1]["amazon-bedrock-invocationMetrics"]["outputTokenCount"] == 12


async def test_aiobotocore_stream_cut(bedrock: BedrockServer) -> None:
    bedrock.inject("stream_break", mode="cut", after_chunks=1)
    async with _aio_client(bedrock) as client:
        stream = await client.converse_stream(
            modelId="amazon.nova-lite-v1:0", messages=[{"role": "user", "content": [{"text": "x"}]}]
        )
        received = []
        with pytest.raises(Exception) as info:  # aiohttp's payload error for a truncated body
            async for event in stream["stream"]:
                received.append(event)
        assert not isinstance(info.value, EventStreamError)
        assert [next(iter(e)) for e in received] == ["messageStart"]
