"""A small Bedrock Runtime HTTP server for the instrumentation tests.

Real boto3/aiobotocore clients reach it through `endpoint_url`. It speaks the REST-JSON wire
format of Converse, ConverseStream, InvokeModel and InvokeModelWithResponseStream, streams in
AWS event-stream framing (prelude, headers, CRC32s), answers each model family with that
family's body, and injects faults: AWS errors with their status, an exception event mid-way
through a stream, a connection dropped mid-way through a stream. Every response reports the
same usage (TOKENS) so tests know what to expect.
"""

from __future__ import annotations

import base64
import binascii
import json
import struct
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from support.ports import free_port

INPUT, OUTPUT, CACHE_READ, CACHE_WRITE = 11, 7, 5, 3
TEXT = ("Hello", " there")


# --- AWS event-stream framing ------------------------------------------------------------


def _header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    # value type 7 = string
    return (
        struct.pack(">B", len(raw_name))
        + raw_name
        + b"\x07"
        + struct.pack(">H", len(raw_value))
        + raw_value
    )


def encode_message(headers: dict[str, str], payload: bytes) -> bytes:
    """One event-stream message: prelude + prelude CRC, headers, payload, message CRC."""
    raw_headers = b"".join(_header(k, v) for k, v in headers.items())
    total = 12 + len(raw_headers) + len(payload) + 4
    prelude = struct.pack(">II", total, len(raw_headers))
    message = prelude + struct.pack(">I", binascii.crc32(prelude)) + raw_headers + payload
    return message + struct.pack(">I", binascii.crc32(message))


def event(event_type: str, body: dict[str, Any]) -> bytes:
    return encode_message(
        {":event-type": event_type, ":content-type": "application/json", ":message-type": "event"},
        json.dumps(body).encode(),
    )


def exception_event(exception_type: str, message: str) -> bytes:
    return encode_message(
        {
            ":exception-type": exception_type,
            ":content-type": "application/json",
            ":message-type": "exception",
        },
        json.dumps({"message": message}).encode(),
    )


def payload_part(chunk: dict[str, Any]) -> bytes:
    """An InvokeModelWithResponseStream `chunk` event: the family's JSON, base64 in `bytes`."""
    return event("chunk", {"bytes": base64.b64encode(json.dumps(chunk).encode()).decode()})


# --- Responses per model family ----------------------------------------------------------

_METRICS = {
    "amazon-bedrock-invocationMetrics": {
        "inputTokenCount": INPUT,
        "outputTokenCount": OUTPUT,
        "invocationLatency": 120,
        "firstByteLatency": 40,
    }
}

_CLAUDE_USAGE = {
    "input_tokens": INPUT,
    "output_tokens": 1,
    "cache_read_input_tokens": CACHE_READ,
    "cache_creation_input_tokens": CACHE_WRITE,
}
_NOVA_USAGE = {
    "inputTokens": INPUT,
    "outputTokens": OUTPUT,
    "cacheReadInputTokenCount": CACHE_READ,
    "cacheWriteInputTokenCount": CACHE_WRITE,
}

# family -> (InvokeModel body, InvokeModelWithResponseStream chunks)
FAMILIES: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]] = {
    "anthropic.claude": (
        {
            "id": "msg_bdrk_01",
            "type": "message",
            "role": "assistant",
            "model": "claude-3-5-sonnet-20240620",
            "content": [{"type": "text", "text": "".join(TEXT)}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {**_CLAUDE_USAGE, "output_tokens": OUTPUT},
        },
        [
            {
                "type": "message_start",
                "message": {
                    "id": "msg_bdrk_01",
                    "model": "claude-3-5-sonnet-20240620",
                    "usage": _CLAUDE_USAGE,
                },
            },
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
            *(
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "text_delta", "text": t},
                }
                for t in TEXT
            ),
            {"type": "content_block_stop", "index": 0},
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn"},
                "usage": {"output_tokens": OUTPUT},
            },
            {"type": "message_stop", **_METRICS},
        ],
    ),
    "amazon.nova": (
        {
            "output": {"message": {"role": "assistant", "content": [{"text": "".join(TEXT)}]}},
            "stopReason": "end_turn",
            "usage": {**_NOVA_USAGE, "totalTokens": INPUT + OUTPUT},
        },
        [
            {"messageStart": {"role": "assistant"}},
            *({"contentBlockDelta": {"delta": {"text": t}, "contentBlockIndex": 0}} for t in TEXT),
            {"contentBlockStop": {"contentBlockIndex": 0}},
            {"messageStop": {"stopReason": "end_turn"}},
            {"metadata": {"usage": _NOVA_USAGE}, **_METRICS},
        ],
    ),
    "amazon.titan-text": (
        {
            "inputTextTokenCount": INPUT,
            "results": [
                {"tokenCount": OUTPUT, "outputText": "".join(TEXT), "completionReason": "FINISH"}
            ],
        },
        [
            {
                "outputText": TEXT[0],
                "index": 0,
                "totalOutputTextTokenCount": 3,
                "completionReason": None,
                "inputTextTokenCount": INPUT,
            },
            {
                "outputText": TEXT[1],
                "index": 0,
                "totalOutputTextTokenCount": OUTPUT,
                "completionReason": "FINISH",
                **_METRICS,
            },
        ],
    ),
    "meta.llama": (
        {
            "generation": "".join(TEXT),
            "prompt_token_count": INPUT,
            "generation_token_count": OUTPUT,
            "stop_reason": "stop",
        },
        [
            {
                "generation": TEXT[0],
                "prompt_token_count": INPUT,
                "generation_token_count": 3,
                "stop_reason": None,
            },
            {
                "generation": TEXT[1],
                "prompt_token_count": None,
                "generation_token_count": OUTPUT,
                "stop_reason": "stop",
                **_METRICS,
            },
        ],
    ),
    "mistral.": (
        {"outputs": [{"text": "".join(TEXT), "stop_reason": "stop"}]},
        [
            {"outputs": [{"text": TEXT[0], "stop_reason": None}]},
            {"outputs": [{"text": TEXT[1], "stop_reason": "stop"}], **_METRICS},
        ],
    ),
    "cohere.command-r": (
        {
            "response_id": "resp-1",
            "text": "".join(TEXT),
            "generation_id": "gen-1",
            "finish_reason": "COMPLETE",
        },
        [
            {"is_finished": False, "event_type": "stream-start", "generation_id": "gen-1"},
            *({"is_finished": False, "event_type": "text-generation", "text": t} for t in TEXT),
            {
                "is_finished": True,
                "event_type": "stream-end",
                "finish_reason": "COMPLETE",
                "response": {"response_id": "resp-1", "text": "".join(TEXT)},
                **_METRICS,
            },
        ],
    ),
    "cohere.command": (
        {
            "id": "gen-1",
            "generations": [{"id": "g-1", "text": "".join(TEXT), "finish_reason": "COMPLETE"}],
        },
        [
            *({"text": t, "is_finished": False} for t in TEXT),
            {"is_finished": True, "finish_reason": "COMPLETE", **_METRICS},
        ],
    ),
    "": ({"result": "".join(TEXT)}, [{"result": t} for t in TEXT] + [dict(_METRICS)]),
}


def family_of(model_id: str) -> str:
    for family in FAMILIES:
        if family and family in model_id:
            return family
    return ""


def converse_response() -> dict[str, Any]:
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": "".join(TEXT)}]}},
        "stopReason": "end_turn",
        "usage": {
            "inputTokens": INPUT,
            "outputTokens": OUTPUT,
            "totalTokens": INPUT + OUTPUT + CACHE_READ + CACHE_WRITE,
            "cacheReadInputTokens": CACHE_READ,
            "cacheWriteInputTokens": CACHE_WRITE,
        },
        "metrics": {"latencyMs": 120},
    }


def converse_stream_events() -> list[bytes]:
    return [
        event("messageStart", {"role": "assistant"}),
        *(event("contentBlockDelta", {"delta": {"text": t}, "contentBlockIndex": 0}) for t in TEXT),
        event("contentBlockStop", {"contentBlockIndex": 0}),
        event("messageStop", {"stopReason": "end_turn"}),
        event("metadata", {"usage": converse_response()["usage"], "metrics": {"latencyMs": 120}}),
    ]


# --- Faults ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    """What the next request gets instead of a normal answer."""

    status: int = 200
    code: str = ""  # an AWS error code answered with `status`
    exception_after: int | None = None  # stream: this many events, then an exception event
    exception_type: str = "modelStreamErrorException"
    drop_after: int | None = None  # stream: this many events, then the connection is dropped
    truncate_body: bool = False  # InvokeModel: half the body, then the connection is dropped


VALIDATION = Fault(400, "ValidationException")
THROTTLING = Fault(429, "ThrottlingException")
INTERNAL = Fault(500, "InternalServerException")
NOT_READY = Fault(503, "ModelNotReadyException")


class BedrockStub:
    """The running server: `endpoint_url`, `faults` (consumed one per request), `requests`."""

    def __init__(self, server: ThreadingHTTPServer) -> None:
        self._server = server
        self.endpoint_url = f"http://127.0.0.1:{server.server_address[1]}"
        self.port = int(server.server_address[1])
        self.faults: deque[Fault] = deque()
        self.requests: list[tuple[str, str, dict[str, Any]]] = []  # (model id, action, body)

    def fail_next(self, fault: Fault) -> None:
        self.faults.append(fault)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else headers and body wait on delayed ACKs (40 ms a call)
    server: ThreadingHTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        return

    @property
    def stub(self) -> BedrockStub:
        return self.server.stub  # type: ignore[attr-defined,no-any-return]

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            return self._error(400, "ValidationException", "Malformed input request")
        parts = self.path.split("/")
        if len(parts) == 8 and parts[1] == "agents":
            return self._invoke_agent(parts, body)
        if len(parts) != 4 or parts[1] != "model":
            return self._error(404, "UnknownOperationException", f"no route {self.path}")
        model_id, action = unquote(parts[2]), parts[3]
        self.stub.requests.append((model_id, action, body))
        fault = self.stub.faults.popleft() if self.stub.faults else Fault()
        if fault.code:
            return self._error(fault.status, fault.code, f"{fault.code} injected by the test")
        family = family_of(model_id)
        if action == "converse":
            return self._json(converse_response())
        if action == "invoke":
            return self._json(FAMILIES[family][0], tokens=True, truncate=fault.truncate_body)
        if action == "converse-stream":
            return self._stream(converse_stream_events(), fault)
        if action == "invoke-with-response-stream":
            return self._stream([payload_part(c) for c in FAMILIES[family][1]], fault)
        return self._error(404, "UnknownOperationException", f"no action {action}")

    def _invoke_agent(self, parts: list[str], body: dict[str, Any]) -> None:
        """InvokeAgent: /agents/{agentId}/agentAliases/{aliasId}/sessions/{sessionId}/text."""
        agent_id, session_id = unquote(parts[2]), unquote(parts[6])
        self.stub.requests.append((agent_id, "invoke-agent", body))
        fault = self.stub.faults.popleft() if self.stub.faults else Fault()
        if fault.code:
            return self._error(fault.status, fault.code, f"{fault.code} injected by the test")
        usage = {"inputTokens": INPUT, "outputTokens": OUTPUT}
        trace = {"orchestrationTrace": {"modelInvocationOutput": {"metadata": {"usage": usage}}}}
        events = [
            event("trace", {"agentId": agent_id, "sessionId": session_id, "trace": trace}),
            *(event("chunk", {"bytes": base64.b64encode(t.encode()).decode()}) for t in TEXT),
        ]
        extra = {
            "x-amzn-bedrock-agent-content-type": "application/json",
            "x-amz-bedrock-agent-session-id": session_id,
        }
        return self._stream(events, fault, extra)

    def _json(self, body: dict[str, Any], tokens: bool = False, truncate: bool = False) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", "req-0001")
        if tokens:
            self.send_header("X-Amzn-Bedrock-Input-Token-Count", str(INPUT))
            self.send_header("X-Amzn-Bedrock-Output-Token-Count", str(OUTPUT))
        self.end_headers()
        if truncate:
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self.wfile.write(data)

    def _error(self, status: int, code: str, message: str) -> None:
        data = json.dumps({"message": message}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header(
            "x-amzn-ErrorType", f"{code}:http://internal.amazon.com/coral/com.amazon.bedrock/"
        )
        self.end_headers()
        self.wfile.write(data)

    def _stream(
        self, events: list[bytes], fault: Fault, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.amazon.eventstream")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("x-amzn-RequestId", "req-0001")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if fault.exception_after is not None:
            failure = exception_event(fault.exception_type, "stream failed")
            events = [*events[: fault.exception_after], failure]
        for index, message in enumerate(events):
            if fault.drop_after is not None and index == fault.drop_after:
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)  # no terminating chunk: the response is cut short
                return
            self.wfile.write(b"%x\r\n%s\r\n" % (len(message), message))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")


@contextmanager
def bedrock_stub() -> Iterator[BedrockStub]:
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _Handler)
    server.daemon_threads = True
    stub = BedrockStub(server)
    server.stub = stub  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
