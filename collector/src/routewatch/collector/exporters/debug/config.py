"""Config of the `debug` exporter, with the Go debugexporter's keys and defaults.

```yaml
exporters:
  debug:
    verbosity: basic          # basic: one line of counts per batch; normal: one line per
                              # span/point/record; detailed: everything
    sampling_initial: 2       # per second, the first N batches are printed ...
    sampling_thereafter: 1    # ... then every Mth (1 = all)
```
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from routewatch.collector.exporterhelper import ExporterHelperConfig

Verbosity = Literal["basic", "normal", "detailed"]

DEFAULT_VERBOSITY: Verbosity = "basic"
DEFAULT_SAMPLING_INITIAL = 2
DEFAULT_SAMPLING_THEREAFTER = 1


@dataclass
class DebugExporterConfig(ExporterHelperConfig):
    verbosity: Verbosity = DEFAULT_VERBOSITY
    sampling_initial: int = DEFAULT_SAMPLING_INITIAL
    sampling_thereafter: int = DEFAULT_SAMPLING_THEREAFTER
    # Print through the collector's logger (true) or straight to stdout (false).
    use_internal_logger: bool = True

    def validate(self) -> None:
        super().validate()
        if self.sampling_initial < 0:
            raise ValueError("sampling_initial must be non-negative")
        if self.sampling_thereafter < 1:
            raise ValueError("sampling_thereafter must be at least 1")
