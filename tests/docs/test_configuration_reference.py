"""docs/configuration.md is generated from the config dataclasses and up to date."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from routewatch.collector.config.model import SECTIONS
from routewatch.collector.registry import Registry

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "configuration.md"


def test_reference_is_up_to_date() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "gen_configuration.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_reference_has_every_component_and_the_readme_links_it() -> None:
    text = DOC.read_text()
    registry = Registry()
    for kind, section in SECTIONS.items():
        assert f"## {section}\n" in text
        for type_ in registry.types(kind):
            assert f"### {type_}\n" in text
    assert "| `routing_key` | str |" in text
    assert "](docs/configuration.md)" in (ROOT / "README.md").read_text()
