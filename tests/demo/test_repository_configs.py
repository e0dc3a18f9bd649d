"""Every collector config in the repository validates, and the packaged default config is
the root one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from routewatch.collector.cli import main as cli_main
from routewatch.collector.default_config import packaged_config

ROOT = Path(__file__).resolve().parents[2]
SKIP_DIRS = {".git", ".venv", ".tools", "routewatch-demo", "routewatch-data", "node_modules"}


def _collector_configs() -> list[Path]:
    """Every YAML file in the repository with a top-level `service` (a collector config)."""
    found = []
    for directory, subdirs, files in os.walk(ROOT):
        subdirs[:] = [d for d in subdirs if d not in SKIP_DIRS and not d.startswith(".")]
        for name in files:
            if name.endswith((".yaml", ".yml")):
                path = Path(directory, name)
                doc = yaml.safe_load(path.read_text())
                if isinstance(doc, dict) and "service" in doc:
                    found.append(path)
    return sorted(found)


CONFIGS = _collector_configs()
# What examples/otel-config.aws.yaml reads from the environment.
AWS_ENV = {
    "ENVIRONMENT": "prod",
    "AWS_REGION": "eu-west-1",
    "AWS_ACCOUNT_ID": "123456789012",
    "PAGERDUTY_ROUTING_KEY": "0123456789abcdef0123456789abcdef",
    "TRACING_ENDPOINT": "tempo.internal:4317",
}


def test_packaged_default_config_is_the_root_one() -> None:
    assert packaged_config().read_bytes() == (ROOT / "otel-config.yaml").read_bytes()


def test_the_known_configs_are_found() -> None:
    assert {
        ROOT / "otel-config.yaml",
        ROOT / "examples" / "otel-config.aws.yaml",
        packaged_config(),
    } <= set(CONFIGS)


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: str(p.relative_to(ROOT)))
def test_config_validates(
    config: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for key, value in AWS_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("ROUTEWATCH_STATE_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)  # relative paths of the default config land here
    assert cli_main(["validate", "--config", str(config)]) == 0, capsys.readouterr().err


def test_aws_example_needs_its_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for key in AWS_ENV:
        monkeypatch.delenv(key, raising=False)
    code = cli_main(["validate", "--config", str(ROOT / "examples" / "otel-config.aws.yaml")])
    assert code == 1
    assert "invalid configuration" in capsys.readouterr().err


def test_validate_without_config_uses_the_embedded_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli_main(["validate"]) == 0
    err = capsys.readouterr().err
    assert f"no --config, using the embedded default {packaged_config()}" in err
    assert "config is valid" in err
