"""The debug exporter: writes each batch to the collector's log (or stdout) at the
configured verbosity, sampled as zap samples the Go collector's log."""

from __future__ import annotations

import sys
from collections.abc import Callable

from routewatch.collector.component import CreateSettings, Data
from routewatch.collector.exporters.debug import text
from routewatch.collector.exporters.debug.config import DebugExporterConfig
from routewatch.collector.exporters.debug.sampling import Sampler


class DebugWriter:
    def __init__(
        self,
        settings: CreateSettings,
        config: DebugExporterConfig,
        write: Callable[[str], None] | None = None,
        sampler: Sampler | None = None,
    ) -> None:
        self.config = config
        self._write = write or (
            (lambda line: settings.logger.info("%s", line))
            if config.use_internal_logger
            else _stdout
        )
        self._sampler = sampler or Sampler(config.sampling_initial, config.sampling_thereafter)

    async def push(self, data: Data) -> None:
        if not self._sampler.allow():
            return
        self._write(text.summary(data))
        if self.config.verbosity == "normal":
            self._write("\n".join(text.lines(data)))
        elif self.config.verbosity == "detailed":
            self._write(text.dump(data))


def _stdout(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
