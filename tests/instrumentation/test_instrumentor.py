"""RoutewatchInstrumentor as `opentelemetry-instrument` loads it: the entry point, the
switches that turn it off, and `_instrument` staying silent when a library is missing.

Missing libraries are simulated the way Python sees them, in a subprocess whose
`sys.modules` maps the package to None (so its import fails), not by patching routewatch.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from importlib.metadata import entry_points
from pathlib import Path

import pytest
import wrapt
from botocore.client import BaseClient

from routewatch.instrumentation import RoutewatchInstrumentor, semconv

# Prints the modules of the wrappers around botocore's _make_api_call, outermost first.
SHOW_WRAPPERS = """
from botocore.client import BaseClient
node, found = BaseClient.__dict__["_make_api_call"], []
while hasattr(node, "_self_wrapper"):
    found.append(node._self_wrapper.__module__)
    node = node.__wrapped__
print("wrappers:", ",".join(found))
"""
ROUTEWATCH_WRAPPER = "routewatch.instrumentation.bedrock.patch"


def _run(code: str, *, instrument: bool = False, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh interpreter, under `opentelemetry-instrument` if asked."""
    command = [sys.executable, "-c", textwrap.dedent(code)]
    if instrument:
        command = [str(Path(sys.executable).with_name("opentelemetry-instrument")), *command]
    environment = {
        **os.environ,
        "OTEL_TRACES_EXPORTER": "none",
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
        **env,
    }
    return subprocess.run(
        command, capture_output=True, text=True, env=environment, timeout=60, check=False
    )


def test_entry_point_loads_the_instrumentor() -> None:
    (entry_point,) = entry_points(group="opentelemetry_instrumentor", name="routewatch")
    assert entry_point.load() is RoutewatchInstrumentor


def test_opentelemetry_instrument_loads_routewatch() -> None:
    result = _run(SHOW_WRAPPERS, instrument=True)

    assert result.returncode == 0, result.stderr
    assert ROUTEWATCH_WRAPPER in result.stdout


def test_disabled_instrumentations_leaves_routewatch_out() -> None:
    result = _run(
        SHOW_WRAPPERS, instrument=True, OTEL_PYTHON_DISABLED_INSTRUMENTATIONS="routewatch"
    )

    assert result.returncode == 0, result.stderr
    assert "wrappers:" in result.stdout
    assert ROUTEWATCH_WRAPPER not in result.stdout


def test_disabled_patchers_are_left_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(semconv.OTEL_PYTHON_ROUTEWATCH_DISABLED_PATCHERS, "mcp, bedrock")
    instrumentor = RoutewatchInstrumentor()
    instrumentor.instrument()
    try:
        assert not isinstance(BaseClient.__dict__["_make_api_call"], wrapt.FunctionWrapper)
    finally:
        instrumentor.uninstrument()


INSTRUMENT = """
import logging, sys
{hide}
logging.basicConfig(level=logging.INFO, format="%(name)s %(levelname)s %(message)s")
from routewatch.instrumentation import RoutewatchInstrumentor
RoutewatchInstrumentor().instrument()
print("instrumented")
"""


def test_instrument_is_silent_without_aiobotocore() -> None:
    code = INSTRUMENT.format(hide='sys.modules["aiobotocore"] = None') + SHOW_WRAPPERS
    result = _run(code)

    assert result.returncode == 0, result.stderr
    assert "instrumented" in result.stdout
    assert ROUTEWATCH_WRAPPER in result.stdout  # boto3 clients are still traced
    assert "Traceback" not in result.stderr
    assert result.stderr.count("aiobotocore not importable") == 1


BREAK_AIOBOTOCORE = """
import importlib.abc

class _Broken(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] == "aiobotocore":
            raise RuntimeError("aiobotocore is broken")
        return None

sys.meta_path.insert(0, _Broken())
"""


def test_instrument_is_silent_with_a_broken_aiobotocore() -> None:
    code = INSTRUMENT.format(hide=BREAK_AIOBOTOCORE) + SHOW_WRAPPERS
    result = _run(code)

    assert result.returncode == 0, result.stderr
    assert ROUTEWATCH_WRAPPER in result.stdout
    assert "Traceback" not in result.stderr
    assert result.stderr.count("aiobotocore not importable (aiobotocore is broken)") == 1


def test_instrument_is_silent_without_botocore() -> None:
    result = _run(INSTRUMENT.format(hide='sys.modules["botocore"] = None'))

    assert result.returncode == 0, result.stderr
    assert "instrumented" in result.stdout
    assert "Traceback" not in result.stderr
    assert "bedrock not instrumented" in result.stderr


def test_instrument_is_silent_with_a_broken_pricing_file(tmp_path: Path) -> None:
    path = tmp_path / "prices.yaml"
    path.write_text("models: {a: [")
    result = _run(
        INSTRUMENT.format(hide="") + SHOW_WRAPPERS, OTEL_PYTHON_ROUTEWATCH_PRICING=str(path)
    )

    assert result.returncode == 0, result.stderr
    assert ROUTEWATCH_WRAPPER in result.stdout
    assert "Traceback" not in result.stderr
    assert result.stderr.count("using the built-in price table") == 1


def test_instrument_is_silent_without_pyyaml_for_a_yaml_pricing_file(tmp_path: Path) -> None:
    path = tmp_path / "prices.yaml"
    path.write_text("models: {}\n")
    code = INSTRUMENT.format(hide='sys.modules["yaml"] = None') + SHOW_WRAPPERS
    result = _run(code, OTEL_PYTHON_ROUTEWATCH_PRICING=str(path))

    assert result.returncode == 0, result.stderr
    assert ROUTEWATCH_WRAPPER in result.stdout
    assert "YAML needs PyYAML" in result.stderr


# Routes still work when the mcp patcher is left out: a decorated router makes its span.
ROUTE_STILL_TRACED = """
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from routewatch.instrumentation import route
exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)

@route(operation="still_routed")
def handle():
    return "ok"

handle()
print("spans:", ",".join(s.name for s in exporter.get_finished_spans()))
"""


def test_instrument_is_silent_without_mcp() -> None:
    code = INSTRUMENT.format(hide='sys.modules["mcp"] = None') + SHOW_WRAPPERS
    result = _run(code + ROUTE_STILL_TRACED)

    assert result.returncode == 0, result.stderr
    assert "instrumented" in result.stdout
    assert ROUTEWATCH_WRAPPER in result.stdout  # Bedrock calls are still traced
    assert "spans: route still_routed" in result.stdout
    assert "Traceback" not in result.stderr
    assert result.stderr.count("mcp not instrumented") == 1


BREAK_MCP = BREAK_AIOBOTOCORE.replace("aiobotocore", "mcp")


def test_instrument_is_silent_with_a_broken_mcp() -> None:
    code = INSTRUMENT.format(hide=BREAK_MCP) + SHOW_WRAPPERS
    result = _run(code + ROUTE_STILL_TRACED)

    assert result.returncode == 0, result.stderr
    assert ROUTEWATCH_WRAPPER in result.stdout
    assert "spans: route still_routed" in result.stdout
    assert "Traceback" not in result.stderr
    assert result.stderr.count("mcp not instrumented") == 1
