"""Where rendered EMF events go: CloudWatch Logs, or one JSON object per line to a stream or
file (Lambda and container platforms pick EMF lines up from stdout)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Hashable, Mapping, Sequence
from typing import IO, Protocol

from routewatch.exporters.cloudwatch_logs import LogBuffer
from routewatch.exporters.emf.encode import LogEvent


class EmfSink(Protocol):
    def write(self, events: Mapping[Hashable, Sequence[LogEvent]]) -> None:
        """Take events per destination; raise BufferFullError when they cannot be taken."""

    def flush(self) -> None: ...

    def shutdown(self) -> None: ...


class LineSink:
    """One EMF JSON per line to a text stream (stdout by default) or a file path."""

    def __init__(self, stream: IO[str] | None = None, path: str | None = None) -> None:
        self._lock = threading.Lock()
        self._owned = path is not None
        self._binary: IO[bytes] | None = open(path, "ab") if path is not None else None  # noqa: SIM115
        self._stream = stream
        self._closed = False

    def write(self, events: Mapping[Hashable, Sequence[LogEvent]]) -> None:
        payload = b"".join(m + b"\n" for evs in events.values() for _, m in evs)
        if not payload:
            return
        with self._lock:
            if self._closed:
                raise ValueError("EMF line sink is shut down")
            if self._binary is not None:
                self._binary.write(payload)
                return
            stream = self._stream or sys.stdout
            buffer = getattr(stream, "buffer", None)
            if buffer is not None:
                stream.flush()
                buffer.write(payload)
            else:
                stream.write(payload.decode("utf-8"))

    def flush(self) -> None:
        with self._lock:
            if self._binary is not None:
                self._binary.flush()
            else:
                (self._stream or sys.stdout).flush()

    def shutdown(self) -> None:
        if self._closed:
            return
        self.flush()
        with self._lock:
            self._closed = True
            if self._owned and self._binary is not None:
                self._binary.close()
                self._binary = None


class CloudWatchLogsSink:
    """Events keyed by (log group, log stream) into a LogBuffer (all or nothing)."""

    def __init__(self, buffer: LogBuffer) -> None:
        self.buffer = buffer

    def write(self, events: Mapping[Hashable, Sequence[LogEvent]]) -> None:
        self.buffer.put_many(events)  # type: ignore[arg-type]

    def flush(self) -> None:
        self.buffer.flush()

    def shutdown(self) -> None:
        self.buffer.shutdown()
