"""Config of the `otlp` receiver, with the Go otlpreceiver's keys and defaults.

```yaml
receivers:
  otlp:
    protocols:
      grpc:                       # present (even empty) = enabled
        endpoint: localhost:4317
        max_recv_msg_size_mib: 4
        tls: {cert_file: server.crt, key_file: server.key}
        auth: {bearer_token: ${env:OTLP_TOKEN}}
      http:
        endpoint: localhost:4318
        max_request_body_size: 20971520
        traces_url_path: /v1/traces
```
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_GRPC_ENDPOINT = "localhost:4317"
DEFAULT_HTTP_ENDPOINT = "localhost:4318"
DEFAULT_MAX_RECV_MSG_SIZE_MIB = 4
DEFAULT_MAX_REQUEST_BODY_SIZE = 20 * 1024 * 1024
DEFAULT_TRACES_URL_PATH = "/v1/traces"
DEFAULT_METRICS_URL_PATH = "/v1/metrics"
DEFAULT_LOGS_URL_PATH = "/v1/logs"


@dataclass
class ServerTLSConfig:
    # Both empty means plaintext.
    cert_file: str = ""
    key_file: str = ""
    # CA bundle that client certificates must chain to; set = mutual TLS required.
    client_ca_file: str = ""

    @property
    def enabled(self) -> bool:
        return bool(self.cert_file or self.key_file)

    def validate(self) -> None:
        if bool(self.cert_file) != bool(self.key_file):
            raise ValueError("tls: both cert_file and key_file must be set")
        if self.client_ca_file and not self.cert_file:
            raise ValueError("tls: client_ca_file needs cert_file and key_file")


@dataclass
class ServerAuthConfig:
    # Requests must carry `Authorization: Bearer <bearer_token>`; empty means no check.
    # Kept out of repr: a secret must never reach a log line.
    bearer_token: str = field(default="", repr=False)


@dataclass
class GrpcServerConfig:
    endpoint: str = DEFAULT_GRPC_ENDPOINT
    max_recv_msg_size_mib: int = DEFAULT_MAX_RECV_MSG_SIZE_MIB
    tls: ServerTLSConfig = field(default_factory=ServerTLSConfig)
    auth: ServerAuthConfig = field(default_factory=ServerAuthConfig)
    # Not a config key: whether `grpc` was written in the config. The default config holds a
    # disabled instance; decoding `grpc:` constructs a new one, enabled (Go's configoptional).
    enabled: bool = field(default=True, init=False)

    def validate(self) -> None:
        _check_endpoint(self.endpoint)
        if self.max_recv_msg_size_mib <= 0:
            raise ValueError("max_recv_msg_size_mib must be positive")


@dataclass
class HttpServerConfig:
    endpoint: str = DEFAULT_HTTP_ENDPOINT
    # Limit of a request body in bytes, compressed and after decompression.
    max_request_body_size: int = DEFAULT_MAX_REQUEST_BODY_SIZE
    traces_url_path: str = DEFAULT_TRACES_URL_PATH
    metrics_url_path: str = DEFAULT_METRICS_URL_PATH
    logs_url_path: str = DEFAULT_LOGS_URL_PATH
    tls: ServerTLSConfig = field(default_factory=ServerTLSConfig)
    auth: ServerAuthConfig = field(default_factory=ServerAuthConfig)
    enabled: bool = field(default=True, init=False)  # see GrpcServerConfig.enabled

    def validate(self) -> None:
        _check_endpoint(self.endpoint)
        if self.max_request_body_size <= 0:
            raise ValueError("max_request_body_size must be positive")
        for key in ("traces_url_path", "metrics_url_path", "logs_url_path"):
            if not getattr(self, key).startswith("/"):
                raise ValueError(f"{key} must start with '/'")


def _disabled_grpc() -> GrpcServerConfig:
    config = GrpcServerConfig()
    config.enabled = False
    return config


def _disabled_http() -> HttpServerConfig:
    config = HttpServerConfig()
    config.enabled = False
    return config


@dataclass
class ProtocolsConfig:
    grpc: GrpcServerConfig = field(default_factory=_disabled_grpc)
    http: HttpServerConfig = field(default_factory=_disabled_http)


@dataclass
class OtlpReceiverConfig:
    protocols: ProtocolsConfig = field(default_factory=ProtocolsConfig)

    def validate(self) -> None:
        if not (self.protocols.grpc.enabled or self.protocols.http.enabled):
            raise ValueError("must specify at least one protocol when using the OTLP receiver")


def split_endpoint(endpoint: str) -> tuple[str, int]:
    """`host:port` (IPv6 as `[::1]:4317`) -> (host, port)."""
    host, sep, port = endpoint.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"{endpoint!r}: expected host:port")
    return host.strip("[]") or "0.0.0.0", int(port)


def _check_endpoint(endpoint: str) -> None:
    try:
        split_endpoint(endpoint)
    except ValueError as err:
        raise ValueError(f"endpoint: {err}") from None
