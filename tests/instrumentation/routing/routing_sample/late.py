"""Imported only after instrumentation, to prove declarations wait for the import."""

from __future__ import annotations

from typing import Any


def handle(operation: str, backend: Any) -> Any:
    return backend(operation)
