"""Config of the `otlp` (gRPC) exporter, with the Go otlpexporter's keys and defaults.

```yaml
exporters:
  otlp:
    endpoint: tempo:4317         # host:port; http:// means plaintext, https:// TLS
    tls: {insecure: true}
    compression: gzip            # default, as in Go; `none` to turn off
    headers: {x-scope-orgid: acme}
    balancer_name: round_robin   # optional gRPC load-balancing policy
    timeout: 5s                  # + retry_on_failure, sending_queue (exporterhelper)
```
"""

from __future__ import annotations

from dataclasses import dataclass, field

from routewatch.collector.exporterhelper import ExporterHelperConfig
from routewatch.collector.exporters.otlp.tls import ClientTLSConfig

DEFAULT_COMPRESSION = "gzip"
COMPRESSIONS = ("gzip", "none", "")


@dataclass
class OtlpExporterConfig(ExporterHelperConfig):
    endpoint: str = ""
    tls: ClientTLSConfig = field(default_factory=ClientTLSConfig)
    # Sent as gRPC metadata with every request (kept out of repr: often credentials).
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    compression: str = DEFAULT_COMPRESSION
    # gRPC load-balancing policy (`pick_first`, `round_robin`); empty: grpc's default.
    balancer_name: str = ""

    def validate(self) -> None:
        super().validate()
        if not self.endpoint:
            raise ValueError('requires a non-empty "endpoint"')
        if self.compression not in COMPRESSIONS:
            raise ValueError(f"compression: unsupported {self.compression!r}, use gzip or none")
        self.tls.validate()
        if self.tls.insecure_skip_verify:
            # grpc-python has no switch to skip verification; refusing beats verifying anyway.
            raise ValueError("tls: insecure_skip_verify is not supported by the gRPC exporter")

    def target(self) -> tuple[str, bool]:
        """(host:port, plaintext?) from the endpoint and tls.insecure."""
        endpoint = self.endpoint
        if endpoint.startswith("http://"):
            return endpoint.removeprefix("http://").rstrip("/"), True
        if endpoint.startswith("https://"):
            return endpoint.removeprefix("https://").rstrip("/"), False
        return endpoint, self.tls.insecure
