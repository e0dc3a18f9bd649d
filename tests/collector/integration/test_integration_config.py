"""The CLI on real configs: every collector config in the repository validates (found by glob, so
configs added later are checked too), bad configs fail with the Go collector's message naming
the key path, and `routewatch components` lists the built-ins."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from rw_collector_proc import ROOT, ROUTEWATCH

from routewatch.collector import cli
from routewatch.collector.component import Kind
from routewatch.collector.registry import BUILTINS, Registry

# Not configs of this repository: tools, environments, and the tests' own fixtures.
_SKIP_DIRS = {".git", ".venv", ".tools", "node_modules", "tests", "__pycache__"}


def _collector_configs() -> list[Path]:
    """Every YAML file in the repository that is a collector config (it has service.pipelines)."""
    found = []
    for path in sorted([*ROOT.rglob("*.yaml"), *ROOT.rglob("*.yml")]):
        if _SKIP_DIRS & set(path.relative_to(ROOT).parts):
            continue
        try:
            doc = yaml.safe_load(path.read_text())
        except yaml.YAMLError:
            continue
        service = doc.get("service") if isinstance(doc, dict) else None
        if isinstance(service, dict) and "pipelines" in service:
            found.append(path)
    return found


CONFIGS = _collector_configs()


def _routewatch(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ROUTEWATCH, *args], capture_output=True, text=True, timeout=60, cwd=ROOT)


def test_the_root_config_is_found_and_valid() -> None:
    assert ROOT / "otel-config.yaml" in CONFIGS
    result = _routewatch("validate", "--config", "otel-config.yaml")
    assert result.returncode == 0, result.stderr
    assert "config is valid" in result.stderr


def _doc(**parts: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "receivers": {"otlp": {"protocols": {"grpc": {}}}},
        "exporters": {"debug": {}},
        "service": {"pipelines": {"traces": {"receivers": ["otlp"], "exporters": ["debug"]}}},
    }
    doc.update(parts)
    return doc


def _logs_to(exporters: dict[str, Any]) -> dict[str, Any]:
    return _doc(
        exporters=exporters,
        service={"pipelines": {"logs": {"receivers": ["otlp"], "exporters": list(exporters)}}},
    )


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (
            _doc(receivers={"otlp": {}}),
            "receivers::otlp: must specify at least one protocol when using the OTLP receiver",
        ),
        (
            _doc(receivers={"otlp": {"protocols": {"grpc": {"endpoinx": "x"}}}}),
            "receivers::otlp::protocols::grpc: has invalid keys: endpoinx",
        ),
        (_logs_to({"otlp": {}}), 'exporters::otlp: requires a non-empty "endpoint"'),
        (_logs_to({"otlp_http": {}}), "exporters::otlp_http: at least one endpoint must be"),
        (_logs_to({"file": {}}), "exporters::file: path must be non-empty"),
        (
            _logs_to({"jaeger": {}}),
            'exporters: unknown type: "jaeger" for id: "jaeger" (valid values: [awsemf debug file',
        ),
        (_logs_to({"pagerduty": {}}), "exporters::pagerduty: routing_key is required"),
        (_logs_to({"sns": {}}), "exporters::sns: topic_arn or topic_arns is required"),
        (
            _doc(
                exporters={"pagerduty": {"routing_key": "x" * 32}},
                service={
                    "pipelines": {"traces": {"receivers": ["otlp"], "exporters": ["pagerduty"]}}
                },
            ),
            'service::pipelines::traces: failed to create "pagerduty" exporter for data type '
            '"traces": telemetry type is not supported',
        ),
        (
            _logs_to({"file": {"path": "x", "sending_queue": {"storage": "file_storage"}}}),
            'exporters::file::sending_queue::storage: references extension "file_storage" '
            "which is not enabled in service::extensions",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) and len(v) < 40 else None,
)
def test_bad_configs_fail_with_the_key_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], doc: Any, message: str
) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(yaml.safe_dump(doc))
    assert cli.main(["validate", "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("routewatch: invalid configuration: ")
    assert message in err


def test_components_lists_the_builtins() -> None:
    result = _routewatch("components")
    assert result.returncode == 0, result.stderr
    listed = yaml.safe_load(result.stdout)
    names = {kind: {c["name"] for c in listed[kind]} for kind in listed}
    assert {"otlp"} <= names["receivers"]
    assert {"batch", "memory_limiter"} <= names["processors"]
    assert {"otlp", "otlp_grpc", "otlp_http", "debug", "file", "sns", "pagerduty"} <= names[
        "exporters"
    ]
    assert {"health_check", "file_storage"} <= names["extensions"]


def test_every_builtin_module_that_is_installed_loads() -> None:
    """A built-in whose module exists but does not load would silently vanish from the lists."""
    registry = Registry(load_entry_points=False)
    for (kind, type_), module in BUILTINS.items():
        try:
            if importlib.util.find_spec(module) is None:
                continue
        except ModuleNotFoundError:
            continue  # a component of a branch not merged yet
        assert registry.factory(kind, type_) is not None, (kind, type_)
        assert type_ in registry.types(kind)
    assert registry.types(Kind.RECEIVER)


def test_the_benchmark_pipeline_config_validates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """benchmarks/collector_throughput.py runs this pipeline; it must stay a valid config."""
    spec = importlib.util.spec_from_file_location(
        "collector_throughput", ROOT / "benchmarks" / "collector_throughput.py"
    )
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    config = tmp_path / "bench.yaml"
    endpoints = {"target": "127.0.0.1:1", "sink": "127.0.0.1:2", "health": "127.0.0.1:3"}
    config.write_text(bench.PIPELINE_CONFIG.format(**endpoints))
    assert cli.main(["validate", "--config", str(config)]) == 0, capsys.readouterr().err
