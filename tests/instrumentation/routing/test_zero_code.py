"""`opentelemetry-instrument` loads routewatch by entry point; the environment declares the
router and cache; OTEL_PYTHON_DISABLED_INSTRUMENTATIONS turns it all off."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from support.otlp_sink import OtlpSink, otlp_sink

from routewatch.instrumentation.semconv import (
    HYBRID_ROUTING_ATTEMPT,
    HYBRID_ROUTING_FALLBACK_FROM,
    HYBRID_ROUTING_REASON,
    HYBRID_ROUTING_ROUTE,
)

_HERE = Path(__file__).parent
_INSTRUMENT = Path(sys.executable).with_name("opentelemetry-instrument")

# The app imports its router only after the instrumentor ran, as a real app does; its
# backends call begin_attempt exactly as the Bedrock and MCP extensions do.
APP = """
import wrapt
from opentelemetry import trace
from routewatch.instrumentation import begin_attempt
from routing_sample.router import Request, Router, SupportCache

tracer = trace.get_tracer("app.backend")

def backend(path, fail):
    def call(request):
        attempt = begin_attempt(path)
        with tracer.start_as_current_span(f"call {path}", context=attempt and attempt.context):
            if attempt:
                attempt.end("error" if fail else "success", "ThrottlingException" if fail else None)
            if fail:
                raise RuntimeError("throttled")
            return "ok"
    return call

cache = SupportCache()
cache.entries["costAnalysis"] = "cached"
router = Router({"direct": backend("direct", True), "mcp": backend("mcp", False)}, cache)
print("patched" if isinstance(vars(Router)["handle"], wrapt.FunctionWrapper) else "unpatched")
router.handle(Request("infrastructure", plan=("direct", "mcp")))
router.handle(Request("costAnalysis"))
"""


def run_app(tmp_path: Path, sink: OtlpSink, **env: str) -> str:
    script = tmp_path / "app.py"
    script.write_text(APP)
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(_HERE), os.environ.get("PYTHONPATH", "")]),
        "OTEL_SERVICE_NAME": "routing-sample",
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_METRICS_EXPORTER": "otlp",
        "OTEL_LOGS_EXPORTER": "none",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://{sink.endpoint}",
        "OTEL_EXPORTER_OTLP_INSECURE": "true",
        "OTEL_PYTHON_ROUTEWATCH_ROUTERS": (
            "routing_sample.router:Router.handle(operation=request.operation_type)"
        ),
        "OTEL_PYTHON_ROUTEWATCH_CACHES": "routing_sample.router:SupportCache.get",
        **env,
    }
    done = subprocess.run(
        [str(_INSTRUMENT), sys.executable, str(script)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def attributes(span: Any) -> dict[str, Any]:
    return {kv.key: getattr(kv.value, kv.value.WhichOneof("value")) for kv in span.attributes}


@pytest.mark.slow
def test_routes_are_traced_with_no_code_change(tmp_path: Path) -> None:
    with otlp_sink() as sink:
        assert run_app(tmp_path, sink) == "patched"
        assert sink.wait_for(lambda s: s.span_count() >= 6)
        assert sink.wait_for(lambda s: "hybrid_routing.request.duration" in s.metric_names())

    spans = {span.name: span for span in sink.spans()}
    assert attributes(spans["route infrastructure"])[HYBRID_ROUTING_ROUTE] == "mcp"
    fallback = attributes(spans["attempt mcp"])
    assert fallback[HYBRID_ROUTING_ATTEMPT] == 2
    assert fallback[HYBRID_ROUTING_FALLBACK_FROM] == "direct"
    assert fallback[HYBRID_ROUTING_REASON] == "ThrottlingException"
    assert spans["call mcp"].parent_span_id == spans["attempt mcp"].span_id
    assert attributes(spans["route costAnalysis"])[HYBRID_ROUTING_ROUTE] == "cache"
    assert {
        "hybrid_routing.attempts",
        "hybrid_routing.fallbacks",
        "hybrid_routing.cache.lookups",
    } <= sink.metric_names()


@pytest.mark.slow
def test_disabled_instrumentations_leave_the_app_alone(tmp_path: Path) -> None:
    with otlp_sink() as sink:
        output = run_app(tmp_path, sink, OTEL_PYTHON_DISABLED_INSTRUMENTATIONS="routewatch")
        assert output == "unpatched"
        assert sink.wait_for(lambda s: s.span_count() >= 2)

    assert sorted(span.name for span in sink.spans()) == ["call direct", "call mcp"]
    assert not any(name.startswith("hybrid_routing.") for name in sink.metric_names())
