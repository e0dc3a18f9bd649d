"""What the shared local Bedrock server (routewatch.collector.devservers.bedrock) does not
serve, for the few tests that need it: Bedrock Agent Runtime InvokeAgent, an InvokeModel
answer cut short mid-body, and an InvokeModel answer for a model family Bedrock's runtime
does not know (the devserver rejects such ids, as Bedrock does), whose tokens only the
response headers carry. Everything else runs against the devserver (see conftest.py).

Event-stream framing and the error wire format are the devserver's own.
"""

from __future__ import annotations

import base64
import json
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from bedrock_harness import INPUT, OUTPUT
from support.ports import free_port

from routewatch.collector.devservers.bedrock import ServiceError
from routewatch.collector.devservers.bedrock.eventstream import event

TEXT = ("Hello", " there")


@dataclass(frozen=True)
class Fault:
    """What the next request gets instead of a normal answer."""

    error: str = ""  # a devserver fault kind answered in Bedrock's wire format, e.g. throttling
    truncate_body: bool = False  # InvokeModel: half the body, then the connection is dropped


class BedrockStub:
    """The running server: `endpoint_url`, `port`, `faults` (one consumed per request)."""

    def __init__(self, server: ThreadingHTTPServer) -> None:
        self.endpoint_url = f"http://127.0.0.1:{server.server_address[1]}"
        self.port = int(server.server_address[1])
        self.faults: deque[Fault] = deque()

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
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fault = self.stub.faults.popleft() if self.stub.faults else Fault()
        if fault.error:
            return self._error(ServiceError.of(fault.error))
        parts = self.path.split("/")
        if len(parts) == 8 and parts[1] == "agents":
            return self._invoke_agent(unquote(parts[2]), unquote(parts[6]))
        if len(parts) == 4 and parts[1] == "model" and parts[3] == "invoke":
            return self._invoke(fault.truncate_body)
        return self._error(ServiceError.of("not_found", f"no route {self.path}"))

    def _invoke_agent(self, agent_id: str, session_id: str) -> None:
        """InvokeAgent: /agents/{agentId}/agentAliases/{aliasId}/sessions/{sessionId}/text."""
        usage = {"inputTokens": INPUT, "outputTokens": OUTPUT}
        trace = {"orchestrationTrace": {"modelInvocationOutput": {"metadata": {"usage": usage}}}}
        events = [
            event("trace", _json({"agentId": agent_id, "sessionId": session_id, "trace": trace})),
            *(
                event("chunk", _json({"bytes": base64.b64encode(t.encode()).decode()}))
                for t in TEXT
            ),
        ]
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.amazon.eventstream")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("x-amzn-bedrock-agent-content-type", "application/json")
        self.send_header("x-amz-bedrock-agent-session-id", session_id)
        self.end_headers()
        for message in events:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(message), message))
        self.wfile.write(b"0\r\n\r\n")

    def _invoke(self, truncate: bool) -> None:
        data = _json({"result": "".join(TEXT)})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
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

    def _error(self, error: ServiceError) -> None:
        data = error.body()
        self.send_response(error.status)
        for name, value in error.headers("req-0001").items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _json(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode()


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
