"""The `routewatch` command: validate, components, delegation; exit codes and messages."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from rw_testcomponents import make_registry

from routewatch.collector.cli import DELEGATES, main
from routewatch.collector.component import Factory, Kind, Signal, Stability

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
GOOD = {
    "receivers": {"push": {}},
    "processors": {"batch": {}},
    "exporters": {"record": {}},
    "service": {
        "pipelines": {
            "traces": {"receivers": ["push"], "processors": ["batch"], "exporters": ["record"]}
        }
    },
}


def _routewatch(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "routewatch.collector.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


def _write(tmp_path: Path, name: str, doc: object) -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def test_validate_accepts_a_good_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--config", _write(tmp_path, "c.yaml", GOOD)], make_registry()) == 0


def test_validate_merges_several_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    override = {"service": {"pipelines": {"traces": {"exporters": ["record/missing"]}}}}
    code = main(
        [
            "validate",
            "--config",
            _write(tmp_path, "a.yaml", GOOD),
            "--config",
            _write(tmp_path, "b.yaml", override),
        ],
        make_registry(),
    )
    assert code == 1
    err = capsys.readouterr().err
    assert 'service::pipelines::traces: references exporter "record/missing"' in err


def test_validate_reports_key_path_without_traceback(tmp_path: Path) -> None:
    bad = {
        "receivers": {"nope": {}},
        "processors": {"batch": {"send_batch_size": 10, "send_batch_max_size": 1}},
    }
    result = _routewatch("validate", "--config", _write(tmp_path, "bad.yaml", bad))
    assert result.returncode == 1
    assert 'receivers: unknown type: "nope" for id: "nope"' in result.stderr
    assert "Traceback" not in result.stderr

    bad = {"processors": {"batch": {"send_batch_size": 10, "send_batch_max_size": 1}}}
    bad |= {"receivers": {}, "exporters": {}}
    result = _routewatch("validate", "--config", _write(tmp_path, "bad2.yaml", bad))
    assert result.returncode == 1
    assert (
        "processors::batch: send_batch_max_size must be greater or equal to send_batch_size"
        in result.stderr
    )


def test_validate_of_a_missing_file(tmp_path: Path) -> None:
    result = _routewatch("validate", "--config", str(tmp_path / "absent.yaml"))
    assert result.returncode == 1
    assert "cannot read config file" in result.stderr and "Traceback" not in result.stderr


def test_components_lists_types_by_kind() -> None:
    result = _routewatch("components")
    assert result.returncode == 0, result.stderr
    listing = yaml.safe_load(result.stdout)
    assert set(listing) == {"receivers", "processors", "exporters", "connectors", "extensions"}
    processors = {p["name"]: p["stability"] for p in listing["processors"]}
    assert processors["batch"] == {"traces": "beta", "metrics": "beta", "logs": "beta"}
    assert "memory_limiter" in processors
    assert {e["name"] for e in listing["extensions"]} >= {"health_check", "file_storage"}


def test_components_includes_registered_ones(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["components"], make_registry()) == 0
    listing = yaml.safe_load(capsys.readouterr().out)
    connectors = {c["name"]: c["stability"] for c in listing["connectors"]}
    assert connectors["to_logs"] == {"metrics->logs": "alpha", "traces->traces": "alpha"}


def test_delegates_point_at_the_documented_modules() -> None:
    assert DELEGATES == {
        ("demo",): "routewatch.collector.devservers.demo:main",
        ("alerts", "test"): "routewatch.collector.alerting.unittest_cli:main",
        ("alerts", "send-test"): "routewatch.collector.alerting.send_test:main",
    }


def test_delegation_passes_the_remaining_arguments(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(DELEGATES, ("alerts", "test"), "rw_testcomponents:echo_main")
    assert main(["alerts", "test", "rules.yaml", "--verbose"]) == 3
    assert capsys.readouterr().out == "rules.yaml --verbose\n"


def test_delegation_to_a_missing_module_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(DELEGATES, ("demo",), "routewatch.collector.no_such_module:main")
    assert main(["demo", "--fast"]) == 1
    err = capsys.readouterr().err
    assert "`demo` is not available: routewatch.collector.no_such_module is not installed" in err


def test_usage_error_exits_2() -> None:
    result = _routewatch("run", "--config")
    assert result.returncode == 2
    assert "--config" in result.stderr


def test_run_exits_1_when_a_component_cannot_start(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        doc = {
            "receivers": {"http_push": {"endpoint": f"127.0.0.1:{port}"}},
            "exporters": {"record": {}},
            "service": {
                "pipelines": {"traces": {"receivers": ["http_push"], "exporters": ["record"]}},
                "telemetry": {"metrics": {"level": "none"}},
            },
        }
        result = subprocess.run(
            [
                sys.executable,
                str(HERE / "rw_testcomponents.py"),
                "run",
                "--config",
                _write(tmp_path, "c.yaml", doc),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "PYTHONPATH": str(HERE.parent)},
        )
    assert result.returncode == 1
    assert "failed to start receiver http_push" in result.stderr
    assert "Traceback" not in result.stderr


def _standin(kind: Kind, type_: str) -> Factory:
    """A component accepting any settings, for types another branch provides."""
    signals = {s: (lambda settings, config, nxt: None) for s in Signal}
    return Factory(type_, kind, dict, signals, {s: Stability.DEVELOPMENT for s in Signal})


def test_default_otel_config_validates(capsys: pytest.CaptureFixture[str]) -> None:
    """otel-config.yaml at the root: real components where installed, stand-ins otherwise
    (otlp, debug and file come from the OTLP branch)."""
    registry = make_registry()
    for kind, type_ in ((Kind.RECEIVER, "otlp"), (Kind.EXPORTER, "debug"), (Kind.EXPORTER, "file")):
        if registry.factory(kind, type_) is None:
            registry.register(_standin(kind, type_))
    assert main(["validate", "--config", str(ROOT / "otel-config.yaml")], registry) == 0, (
        capsys.readouterr().err
    )
