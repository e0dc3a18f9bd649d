"""Config of the `file` exporter, with the Go fileexporter's keys and defaults.

```yaml
exporters:
  file:
    path: ./telemetry.jsonl
    format: json              # one OTLP/JSON request per line; or proto (4-byte big-endian
                              # length + the serialised request)
    flush_interval: 1s
    append: false             # false: truncate the file on start
    rotation:                 # optional (not with append)
      max_megabytes: 100
      max_days: 0             # 0: keep backups whatever their age
      max_backups: 100        # 0: keep them all
      localtime: false        # backup timestamps in UTC unless true
```
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from routewatch.collector.confmap import Duration
from routewatch.collector.exporterhelper import ExporterHelperConfig

Format = Literal["json", "proto"]

DEFAULT_FORMAT: Format = "json"
DEFAULT_FLUSH_INTERVAL = Duration(1.0)
DEFAULT_MAX_MEGABYTES = 100
DEFAULT_MAX_DAYS = 0
DEFAULT_MAX_BACKUPS = 100


@dataclass
class RotationConfig:
    max_megabytes: int = DEFAULT_MAX_MEGABYTES
    max_days: int = DEFAULT_MAX_DAYS
    max_backups: int = DEFAULT_MAX_BACKUPS
    localtime: bool = False

    def validate(self) -> None:
        if self.max_megabytes <= 0:
            raise ValueError("max_megabytes must be positive")
        if self.max_days < 0:
            raise ValueError("max_days must be non-negative")
        if self.max_backups < 0:
            raise ValueError("max_backups must be non-negative")


@dataclass
class FileExporterConfig(ExporterHelperConfig):
    path: str = ""
    format: Format = DEFAULT_FORMAT
    rotation: RotationConfig | None = None
    flush_interval: Duration = DEFAULT_FLUSH_INTERVAL
    append: bool = False

    def validate(self) -> None:
        super().validate()
        if not self.path:
            raise ValueError("path must be non-empty")
        if self.append and self.rotation is not None:
            raise ValueError("append and rotation enabled at the same time is not supported")
        if self.flush_interval <= 0:
            raise ValueError("flush_interval must be larger than zero")
