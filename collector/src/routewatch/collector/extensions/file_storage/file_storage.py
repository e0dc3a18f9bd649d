"""One SQLite database (WAL) per extension; each client gets its own table."""

from __future__ import annotations

import os
from pathlib import Path

from routewatch.collector.component import CreateSettings, Host
from routewatch.collector.extensions.file_storage.config import FileStorageConfig
from routewatch.collector.storage import SQLiteStorageClient


class FileStorage:
    """Implements `storage.StorageExtension`."""

    def __init__(self, settings: CreateSettings, config: FileStorageConfig) -> None:
        self._settings = settings
        self._config = config
        name = str(settings.id).replace("/", "_")
        self.path = Path(config.directory) / f"{name}.db"
        self._clients: list[SQLiteStorageClient] = []

    async def start(self, host: Host) -> None:
        if self._config.create_directory:
            os.makedirs(self._config.directory, mode=0o750, exist_ok=True)

    def client(self, owner: str, name: str = "") -> SQLiteStorageClient:
        table = f"{owner}/{name}" if name else owner
        client = SQLiteStorageClient(
            self.path,
            table,
            synchronous="FULL" if self._config.fsync else "NORMAL",
            timeout=float(self._config.timeout),
        )
        self._clients.append(client)
        return client

    async def shutdown(self) -> None:
        clients, self._clients = self._clients, []
        for client in clients:
            client.close()
