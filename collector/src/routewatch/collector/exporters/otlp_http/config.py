"""Config of the `otlp_http` exporter, with the Go otlphttpexporter's keys and defaults.

```yaml
exporters:
  otlp_http:
    endpoint: https://otlp.example.com      # + /v1/traces, /v1/metrics, /v1/logs
    traces_endpoint: https://t.example.com/custom/path   # used as is
    encoding: proto                          # or json
    compression: gzip                        # default; none to turn off
    headers: {authorization: "Bearer ${env:TOKEN}"}
    tls: {ca_file: ca.pem}
```
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from routewatch.collector.component import Signal
from routewatch.collector.exporterhelper import ExporterHelperConfig
from routewatch.collector.exporters.otlp.config import COMPRESSIONS, DEFAULT_COMPRESSION
from routewatch.collector.exporters.otlp.tls import ClientTLSConfig

DEFAULT_ENCODING: Literal["proto", "json"] = "proto"
SIGNAL_PATHS = {Signal.TRACES: "/v1/traces", Signal.METRICS: "/v1/metrics", Signal.LOGS: "/v1/logs"}


@dataclass
class OtlpHttpExporterConfig(ExporterHelperConfig):
    # Base URL; the signal's path is appended. A per-signal endpoint wins and is used as is.
    endpoint: str = ""
    traces_endpoint: str = ""
    metrics_endpoint: str = ""
    logs_endpoint: str = ""
    encoding: Literal["proto", "json"] = DEFAULT_ENCODING
    compression: str = DEFAULT_COMPRESSION
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    tls: ClientTLSConfig = field(default_factory=ClientTLSConfig)

    def validate(self) -> None:
        super().validate()
        if not (
            self.endpoint or self.traces_endpoint or self.metrics_endpoint or self.logs_endpoint
        ):
            raise ValueError("at least one endpoint must be specified")
        for key in ("endpoint", "traces_endpoint", "metrics_endpoint", "logs_endpoint"):
            url = getattr(self, key)
            if url and not url.startswith(("http://", "https://")):
                raise ValueError(f"{key}: invalid URL {url!r}: the scheme must be http or https")
        if self.compression not in COMPRESSIONS:
            raise ValueError(f"compression: unsupported {self.compression!r}, use gzip or none")
        self.tls.validate()

    def url(self, signal: Signal) -> str:
        own = getattr(self, f"{signal.value}_endpoint")
        if own:
            return str(own)
        if not self.endpoint:
            raise ValueError(
                f"no endpoint for {signal.value}: set endpoint or {signal.value}_endpoint"
            )
        return self.endpoint.rstrip("/") + SIGNAL_PATHS[signal]
