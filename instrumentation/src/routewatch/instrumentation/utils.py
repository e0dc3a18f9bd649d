"""Helpers that keep telemetry from ever breaking the instrumented app."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from functools import lru_cache
from typing import Any, TypeVar
from urllib.parse import urlsplit

from routewatch.instrumentation import semconv

_logger = logging.getLogger("routewatch.instrumentation")
_warned: set[str] = set()
T = TypeVar("T")

# Values of OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT that put content on spans: the
# boolean of the earlier GenAI instrumentations and the span modes of opentelemetry-util-genai.
_CAPTURE_ON = frozenset({"true", "span_only", "span_and_event"})


def safe_invoke(func: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
    """Call an instrumentation hook; log and swallow whatever it raises."""
    try:
        return func(*args, **kwargs)
    except Exception:
        _logger.debug("routewatch: %s failed", getattr(func, "__qualname__", func), exc_info=True)
        return None


def warn_once(key: str, message: str, *args: Any) -> None:
    """Log a warning once per key for the life of the process (missing price, bad setting)."""
    if key in _warned:
        return
    _warned.add(key)
    _logger.warning(message, *args)


def capture_message_content() -> bool:
    """Whether the user opted in to prompt and response text on spans."""
    value = os.environ.get(semconv.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT, "")
    return value.strip().lower() in _CAPTURE_ON


def error_type(err: BaseException) -> str:
    """`error.type` for an exception: the AWS error code of a botocore ClientError (e.g.
    ThrottlingException), else the exception's class name."""
    response = getattr(err, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        if isinstance(code, str) and code:
            return code
    return type(err).__qualname__


@lru_cache(maxsize=64)
def server_attributes(endpoint_url: str | None) -> dict[str, str | int]:
    """`server.address` and `server.port` of an endpoint URL (cached: one per client)."""
    if not endpoint_url:
        return {}
    try:
        parts = urlsplit(endpoint_url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return {}
    if not parts.hostname:
        return {}
    return {semconv.SERVER_ADDRESS: parts.hostname, semconv.SERVER_PORT: port}
