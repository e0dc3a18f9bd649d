"""Key-value storage for components, as the Go collector's `extension/xextension/storage`.

The `file_storage` extension hands each component its own client (one SQLite database in WAL
mode per extension, one table per client). Persistent queues, alert state and the notification
log use it, so acknowledged data and sent alerts survive `kill -9`.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Literal, Protocol


class StorageClient(Protocol):
    def get(self, key: str) -> bytes | None: ...

    def set(self, key: str, value: bytes) -> None: ...

    def delete(self, key: str) -> None: ...

    def batch(self, sets: Iterable[tuple[str, bytes]], deletes: Iterable[str] = ()) -> None:
        """Apply several writes in one transaction."""
        ...

    def keys(self, prefix: str = "") -> list[str]: ...

    def close(self) -> None: ...


class StorageExtension(Protocol):
    """What `file_storage` offers other components through `host.get_extension(id)`."""

    def client(self, owner: str, name: str = "") -> StorageClient:
        """A client private to component `owner` (its id string) and `name` (e.g. a signal)."""
        ...


class SQLiteStorageClient:
    """A durable key-value table in an SQLite database (WAL).

    `synchronous="FULL"` fsyncs every commit (survives power loss); `"NORMAL"` in WAL mode
    survives a crash of the process (kill -9) but may lose the last commits on power loss.
    `timeout` is how long a write waits for another connection's lock.
    """

    def __init__(
        self,
        path: str | Path,
        table: str,
        synchronous: Literal["FULL", "NORMAL"] = "FULL",
        timeout: float = 5.0,
    ) -> None:
        self._table = '"' + table.replace('"', '""') + '"'
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            str(path), check_same_thread=False, isolation_level=None, timeout=timeout
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={'FULL' if synchronous == 'FULL' else 'NORMAL'}")
        self._db.execute(
            f"CREATE TABLE IF NOT EXISTS {self._table} (key TEXT PRIMARY KEY, value BLOB NOT NULL)"
        )

    def get(self, key: str) -> bytes | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT value FROM {self._table} WHERE key = ?", (key,)
            ).fetchone()
        return bytes(row[0]) if row else None

    def set(self, key: str, value: bytes) -> None:
        self.batch([(key, value)])

    def delete(self, key: str) -> None:
        self.batch([], [key])

    def batch(self, sets: Iterable[tuple[str, bytes]], deletes: Iterable[str] = ()) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    f"INSERT OR REPLACE INTO {self._table} (key, value) VALUES (?, ?)", list(sets)
                )
                self._db.executemany(
                    f"DELETE FROM {self._table} WHERE key = ?", [(k,) for k in deletes]
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def keys(self, prefix: str = "") -> list[str]:
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        with self._lock:
            rows = self._db.execute(
                f"SELECT key FROM {self._table} WHERE key LIKE ? ESCAPE '\\' ORDER BY key",
                (escaped + "%",),
            ).fetchall()
        return [r[0] for r in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
