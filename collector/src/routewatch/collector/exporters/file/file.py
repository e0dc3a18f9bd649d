"""The file exporter: each request becomes one record of the file, flushed every
`flush_interval` and on shutdown (then fsynced)."""

from __future__ import annotations

import asyncio
import struct
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from routewatch.collector import otlpjson
from routewatch.collector.component import REQUEST_TYPES, CreateSettings, Data, Host, Signal
from routewatch.collector.exporters.file.config import FileExporterConfig, Format
from routewatch.collector.exporters.file.writer import RotatingWriter

_LENGTH = struct.Struct(">I")


def encode_record(data: Data, format: Format) -> bytes:
    """One file record: an OTLP/JSON line, or a 4-byte big-endian length + protobuf."""
    if format == "json":
        return otlpjson.encode(data) + b"\n"
    payload = data.SerializeToString()
    return _LENGTH.pack(len(payload)) + payload


def read_records(path: str | Path, format: Format, signal: Signal) -> Iterator[Data]:
    """The requests of a file written by this exporter (for tests and replay tools)."""
    message_type = REQUEST_TYPES[signal]
    raw = Path(path).read_bytes()
    if format == "json":
        for line in raw.splitlines():
            if line.strip():
                yield otlpjson.decode(line, message_type)
        return
    offset = 0
    while offset < len(raw):
        (size,) = _LENGTH.unpack_from(raw, offset)
        offset += _LENGTH.size
        yield message_type.FromString(raw[offset : offset + size])
        offset += size


class FileExporter:
    def __init__(
        self,
        settings: CreateSettings,
        config: FileExporterConfig,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.config = config
        self._clock = clock
        self._writer: RotatingWriter | None = None
        self._flusher: asyncio.Task[None] | None = None

    async def start(self, host: Host | None = None) -> None:
        c = self.config
        self._writer = await asyncio.to_thread(
            RotatingWriter, c.path, c.rotation, c.append, self._clock
        )
        self._flusher = asyncio.create_task(self._flush_every(float(c.flush_interval)))

    async def push(self, data: Data) -> None:
        if self._writer is None:
            raise RuntimeError(f"exporter {self.settings.id}: push before start")
        # Appends to a memory buffer: no await between encoding and writing, so records
        # from concurrent pushes never interleave.
        self._writer.write(encode_record(data, self.config.format))

    async def _flush_every(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            if self._writer is not None:
                try:
                    self._writer.flush()
                except OSError as err:  # a full disk must not kill the flusher
                    self.settings.logger.error("exporter %s: flush: %s", self.settings.id, err)

    async def shutdown(self) -> None:
        flusher, self._flusher = self._flusher, None
        if flusher is not None:
            flusher.cancel()
            await asyncio.gather(flusher, return_exceptions=True)
        writer, self._writer = self._writer, None
        if writer is not None:
            await asyncio.to_thread(writer.close)
