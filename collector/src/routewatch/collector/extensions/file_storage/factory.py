"""Factory of the `file_storage` extension."""

from __future__ import annotations

from routewatch.collector.component import CreateSettings, Factory, Kind, Stability
from routewatch.collector.extensions.file_storage.config import FileStorageConfig
from routewatch.collector.extensions.file_storage.file_storage import FileStorage

TYPE = "file_storage"


def create_default_config() -> FileStorageConfig:
    return FileStorageConfig()


def create_extension(settings: CreateSettings, config: FileStorageConfig) -> FileStorage:
    return FileStorage(settings, config)


FACTORY = Factory(
    type=TYPE,
    kind=Kind.EXTENSION,
    create_default_config=create_default_config,
    create_extension=create_extension,
    stability={Kind.EXTENSION: Stability.BETA},
)
