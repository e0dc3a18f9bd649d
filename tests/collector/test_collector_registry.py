"""The registry: built-ins by module path, lazily; third parties by entry point."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from rw_testcomponents import PLUGIN

from routewatch.collector.component import Kind
from routewatch.collector.registry import BUILTINS, ENTRY_POINT_GROUP, Registry


def _install_plugin(site: Path, target: str) -> None:
    """A real installed distribution (a dist-info directory) declaring an entry point."""
    info = site / "rw_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: rw-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\nplugin = {target}\n")


def test_entry_point_adds_a_component(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _install_plugin(tmp_path, "rw_testcomponents:PLUGIN")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = Registry()
    assert registry.factory(Kind.EXPORTER, "plugin_exporter") is PLUGIN
    assert "plugin_exporter" in registry.types(Kind.EXPORTER)


def test_broken_entry_point_is_logged_not_fatal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _install_plugin(tmp_path, "rw_no_such_module:FACTORY")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = Registry()
    assert registry.factory(Kind.PROCESSOR, "batch") is not None
    assert "entry point plugin of routewatch.components failed to load" in caplog.text


def test_builtins_are_imported_lazily() -> None:
    module = "routewatch.collector.processors.memory_limiter.factory"
    sys.modules.pop(module, None)
    registry = Registry(load_entry_points=False)
    registry.factory(Kind.PROCESSOR, "batch")
    assert module not in sys.modules
    assert registry.factory(Kind.PROCESSOR, "memory_limiter") is not None
    assert module in sys.modules


def test_a_missing_builtin_module_is_an_unknown_type() -> None:
    registry = Registry({(Kind.EXPORTER, "ghost"): "routewatch.collector.exporters.ghost.factory"})
    assert registry.factory(Kind.EXPORTER, "ghost") is None
    assert registry.types(Kind.EXPORTER) == []


def test_every_builtin_is_listed() -> None:
    names = {(kind.value, type_) for kind, type_ in BUILTINS}
    assert {
        ("receiver", "otlp"),
        ("exporter", "otlp"),
        ("exporter", "otlp_grpc"),
        ("exporter", "otlp_http"),
        ("exporter", "debug"),
        ("exporter", "file"),
        ("exporter", "awsemf"),
        ("exporter", "sns"),
        ("exporter", "pagerduty"),
        ("connector", "routewatch_alerts"),
        ("receiver", "route_probe"),
        ("processor", "batch"),
        ("processor", "memory_limiter"),
        ("extension", "health_check"),
        ("extension", "file_storage"),
    } == names
