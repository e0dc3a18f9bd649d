"""How to run the sample app under `opentelemetry-instrument`: the command and environment
that the demo and the instrumentation's end-to-end tests share."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

from routewatch.collector.devservers.sample_app import CACHE, ROUTER

SERVICE_NAME = "routewatch-demo-app"
SAMPLE_APP_MODULE = "routewatch.collector.devservers.sample_app"


# Imported by the sample app or by `opentelemetry-instrument`; only the `demo` extra brings them.
DEMO_MODULES = ("mcp", "boto3", "opentelemetry.distro", "routewatch.instrumentation")


def missing_demo_modules() -> list[str]:
    """The modules of the `demo` extra that this environment lacks."""
    missing = []
    for name in DEMO_MODULES:
        try:
            found = importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:  # a parent package is missing
            found = False
        if not found:
            missing.append(name)
    return missing


def instrument_command() -> list[str]:
    """`opentelemetry-instrument` of this environment (next to the interpreter first)."""
    here = Path(sys.executable).parent / "opentelemetry-instrument"
    found = str(here) if here.exists() else shutil.which("opentelemetry-instrument")
    if found is None:
        raise RuntimeError(
            "opentelemetry-instrument not found: install routewatch-collector[demo] "
            "(it brings opentelemetry-distro)"
        )
    return [found]


def sample_app_command(bedrock_url: str, *args: str) -> list[str]:
    """`opentelemetry-instrument python -m ...sample_app --bedrock-url URL [args]`."""
    return [
        *instrument_command(),
        sys.executable,
        "-m",
        SAMPLE_APP_MODULE,
        "--bedrock-url",
        bedrock_url,
        *args,
    ]


def app_environment(
    otlp_endpoint: str,
    service_name: str = SERVICE_NAME,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """This process's environment plus what the instrumented app needs: OTLP/gRPC export to
    `otlp_endpoint` (host:port) with a short metric interval, the sample app's router and
    cache declared for routewatch, and dummy AWS credentials for the local Bedrock server."""
    env = dict(os.environ)
    env.pop("AWS_PROFILE", None)
    env.update(
        {
            "OTEL_SERVICE_NAME": service_name,
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_METRICS_EXPORTER": "otlp",
            "OTEL_LOGS_EXPORTER": "none",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://{otlp_endpoint}",
            "OTEL_EXPORTER_OTLP_INSECURE": "true",
            "OTEL_METRIC_EXPORT_INTERVAL": "1000",
            "OTEL_BSP_SCHEDULE_DELAY": "200",
            "OTEL_PYTHON_ROUTEWATCH_ROUTERS": ROUTER,
            "OTEL_PYTHON_ROUTEWATCH_CACHES": CACHE,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
    )
    env.update(extra or {})
    return env
