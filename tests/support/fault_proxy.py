"""An HTTP reverse proxy that injects faults in front of a real server (moto, a local Bedrock).

`proxy.inject(status, body, headers, times=n)` makes the next n requests (optionally only those
whose `X-Amz-Target`/`Action` contains `match`) answer with that fault instead of being
forwarded; everything else is forwarded unchanged. AWS error bodies for the two protocols the
tests need are provided (`aws_json_error`, `aws_query_error`).
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from support.ports import free_port


def aws_json_error(code: str, message: str = "Rate exceeded") -> bytes:
    """Body of an error in the AWS JSON protocol (CloudWatch Logs)."""
    return f'{{"__type":"{code}","message":"{message}"}}'.encode()


def aws_query_error(code: str, message: str = "Rate exceeded") -> bytes:
    """Body of an error in the AWS query protocol (SNS)."""
    return (
        f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}"
        "</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>"
    ).encode()


@dataclass
class _Fault:
    status: int
    body: bytes
    headers: dict[str, str]
    times: int
    match: str


@dataclass
class FaultProxy:
    target: str
    url: str = ""
    faults: list[_Fault] = field(default_factory=list)
    forwarded: int = 0
    injected: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def inject(
        self,
        status: int,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        times: int = 1,
        match: str = "",
    ) -> None:
        with self.lock:
            self.faults.append(_Fault(status, body, dict(headers or {}), times, match))

    def _take(self, target_op: str) -> _Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.match in target_op:
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                    self.injected += 1
                    return fault
            self.forwarded += 1
            return None


@contextmanager
def fault_proxy(target_url: str) -> Iterator[FaultProxy]:
    """Proxy on 127.0.0.1:<free port> in front of `target_url`; `proxy.url` is its address."""
    proxy = FaultProxy(target=target_url)
    target = urlsplit(target_url)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            op = (self.headers.get("X-Amz-Target") or "") + " " + self.path
            if b"Action=" in body[:200]:
                op += " " + body[:200].decode("latin-1")
            fault = proxy._take(op)
            if fault is not None:
                self.send_response(fault.status)
                for key, value in fault.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(fault.body)))
                self.end_headers()
                self.wfile.write(fault.body)
                return
            conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
            headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
            headers["Host"] = target.netloc
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            self.send_response(resp.status)
            for key, value in resp.getheaders():
                if key.lower() not in ("transfer-encoding", "content-length", "connection"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            conn.close()

        do_GET = do_POST = do_PUT = do_DELETE = _handle

    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    proxy.url = f"http://127.0.0.1:{port}"
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()
