"""An appending file writer with size-based rotation (lumberjack's scheme, as Go uses).

Records collect in memory and reach the file in one `write` per flush on a file opened with
O_APPEND, so that two writers on one path (a traces and a logs pipeline of the same `file`
exporter id) never overwrite each other. A writer that finds its path renamed by the other's
rotation reopens it. `close()` flushes and fsyncs.
"""

from __future__ import annotations

import datetime
import os
import re
import time
from collections.abc import Callable
from pathlib import Path

from routewatch.collector.exporters.file.config import RotationConfig

# Flush early once this much is buffered, whatever the flush interval.
FLUSH_BYTES = 1024 * 1024
# lumberjack's backup names: <stem>-2006-01-02T15-04-05.000<ext>.
_BACKUP_TIME = "%Y-%m-%dT%H-%M-%S"


class RotatingWriter:
    def __init__(
        self,
        path: str | Path,
        rotation: RotationConfig | None,
        append: bool,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = Path(path)
        self._rotation = rotation
        self._clock = clock
        self._buffer = bytearray()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not append:
            self.path.write_bytes(b"")
        self._fd: int | None = self._open()

    def _open(self) -> int:
        return os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def write(self, record: bytes) -> None:
        """Buffer one record; flushes when the buffer is large."""
        self._buffer += record
        if len(self._buffer) >= FLUSH_BYTES:
            self.flush()

    def flush(self) -> None:
        if not self._buffer or self._fd is None:
            return
        self._reopen_if_moved()
        if self._rotation is not None:
            size = os.fstat(self._fd).st_size
            if size and size + len(self._buffer) > self._rotation.max_megabytes * 1024 * 1024:
                self._rotate()
        data, self._buffer = bytes(self._buffer), bytearray()
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]

    def close(self) -> None:
        """Flush, fsync and close: what was written survives the process."""
        if self._fd is None:
            return
        try:
            self.flush()
            os.fsync(self._fd)
        finally:
            os.close(self._fd)
            self._fd = None

    def _reopen_if_moved(self) -> None:
        assert self._fd is not None
        try:
            current = os.stat(self.path).st_ino
        except FileNotFoundError:
            current = -1
        if current != os.fstat(self._fd).st_ino:
            os.close(self._fd)
            self._fd = self._open()

    def _rotate(self) -> None:
        assert self._fd is not None and self._rotation is not None
        os.fsync(self._fd)
        os.close(self._fd)
        self._fd = None
        now = self._clock()
        os.replace(self.path, self._backup_name(now))
        self._fd = self._open()
        self._prune(now)

    def _backup_name(self, now: float) -> Path:
        assert self._rotation is not None
        moment = (
            datetime.datetime.fromtimestamp(now)
            if self._rotation.localtime
            else datetime.datetime.fromtimestamp(now, datetime.UTC)
        )
        stamp = moment.strftime(_BACKUP_TIME) + f".{moment.microsecond // 1000:03d}"
        name = self.path.parent / f"{self.path.stem}-{stamp}{self.path.suffix}"
        serial = 1
        while name.exists():  # two rotations within one millisecond
            name = self.path.parent / f"{self.path.stem}-{stamp}.{serial}{self.path.suffix}"
            serial += 1
        return name

    def backups(self) -> list[tuple[float, Path]]:
        """(time of rotation, path) of this path's backups, oldest first."""
        pattern = re.compile(
            re.escape(self.path.stem)
            + r"-(\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d)\.(\d{3})(?:\.\d+)?"
            + re.escape(self.path.suffix)
            + "$"
        )
        found = []
        for path in self.path.parent.iterdir():
            match = pattern.match(path.name)
            if match is None:
                continue
            moment = datetime.datetime.strptime(match.group(1), _BACKUP_TIME)
            if not (self._rotation and self._rotation.localtime):
                moment = moment.replace(tzinfo=datetime.UTC)
            found.append((moment.timestamp() + int(match.group(2)) / 1000, path))
        return sorted(found)

    def _prune(self, now: float) -> None:
        assert self._rotation is not None
        backups = self.backups()
        doomed: set[Path] = set()
        if self._rotation.max_backups and len(backups) > self._rotation.max_backups:
            doomed.update(p for _, p in backups[: len(backups) - self._rotation.max_backups])
        if self._rotation.max_days:
            cutoff = now - self._rotation.max_days * 86400
            doomed.update(p for when, p in backups if when < cutoff)
        for path in doomed:
            path.unlink(missing_ok=True)
