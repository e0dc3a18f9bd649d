"""The embedded default config: a copy of the repository's root `otel-config.yaml` shipped in
the package (tests/demo checks the two are identical), for `routewatch run`/`validate` without
`--config` and for `routewatch demo` outside a checkout."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

CONFIG_NAME = "otel-config.yaml"


def packaged_config() -> Path:
    return Path(str(resources.files("routewatch.collector").joinpath(CONFIG_NAME)))
