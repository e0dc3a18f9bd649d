"""`file_storage` settings, keys and defaults as the Go collector's filestorage extension."""

from __future__ import annotations

import os
from dataclasses import dataclass

from routewatch.collector.confmap import Duration

DEFAULT_DIRECTORY = "/var/lib/otelcol/file_storage"
DEFAULT_TIMEOUT = Duration(1.0)


@dataclass
class FileStorageConfig:
    # Where the SQLite database lives; must exist unless create_directory is true.
    directory: str = DEFAULT_DIRECTORY
    # How long a write waits for the database lock.
    timeout: Duration = DEFAULT_TIMEOUT
    create_directory: bool = False
    # false: commits survive a crash of the process (kill -9), not of the machine.
    # true: every commit is fsynced, surviving power loss too.
    fsync: bool = False

    def validate(self) -> None:
        if not self.directory:
            raise ValueError("directory must be set")
        if self.create_directory:
            return
        if not os.path.exists(self.directory):
            raise ValueError(f"directory must exist: {self.directory}")
        if not os.path.isdir(self.directory):
            raise ValueError(f"{self.directory} is not a directory")
