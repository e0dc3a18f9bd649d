"""The price table in force: the built-in one, with the user's file on top.

The file (YAML if PyYAML is importable, else JSON only) looks like::

    models:
      anthropic.claude-3-5-sonnet-20240620-v1:0:
        {input: 0.003, output: 0.015, cache_read: 0.0003, cache_write: 0.00375}
      arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc:
        {input: 0.003, output: 0.015}

A missing or broken file is logged once and the built-in table is used: pricing must never
stop the app.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from routewatch.instrumentation import semconv
from routewatch.instrumentation.pricing.builtin import BUILTIN_PRICES
from routewatch.instrumentation.pricing.table import Price, PriceTable
from routewatch.instrumentation.utils import warn_once

_FIELDS = ("input", "output", "cache_read", "cache_write")
_REQUIRED = ("input", "output")


class PricingFileError(ValueError):
    """The pricing file cannot be used; the message names the file and the key path."""


def load_price_table(path: str | None = None) -> PriceTable:
    """Built-in prices, overridden by the file at `path` (default:
    OTEL_PYTHON_ROUTEWATCH_PRICING)."""
    builtin = PriceTable(BUILTIN_PRICES)
    if path is None:
        path = os.environ.get(semconv.OTEL_PYTHON_ROUTEWATCH_PRICING, "").strip()
    if not path:
        return builtin
    try:
        return builtin.merged(read_price_file(Path(path)))
    except PricingFileError as err:
        warn_once(f"pricing:{path}", "routewatch: %s; using the built-in price table", err)
        return builtin


def read_price_file(path: Path) -> dict[str, Price]:
    """Prices from a YAML or JSON file; PricingFileError says what is wrong and where."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise PricingFileError(f"pricing file {path}: cannot be read: {err.strerror}") from err
    raw = _parse(path, text)
    if not isinstance(raw, Mapping) or not isinstance(raw.get("models"), Mapping):
        raise PricingFileError(
            f"pricing file {path}: models: a mapping of model id to prices is required"
        )
    unknown = sorted(set(raw) - {"models"})
    if unknown:
        raise PricingFileError(f"pricing file {path}: {unknown[0]}: unknown key")
    return {str(model): _price(path, str(model), entry) for model, entry in raw["models"].items()}


def _parse(path: Path, text: str) -> Any:
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError as err:
            raise PricingFileError(
                f"pricing file {path}: YAML needs PyYAML, which is not installed; use JSON"
            ) from err
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as err:
            raise PricingFileError(f"pricing file {path}: not valid YAML: {err}") from err
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise PricingFileError(f"pricing file {path}: not valid JSON: {err}") from err


def _price(path: Path, model: str, entry: Any) -> Price:
    where = f"pricing file {path}: models::{model}"
    if not isinstance(entry, Mapping):
        raise PricingFileError(f"{where}: a mapping with input and output prices is required")
    unknown = sorted(set(entry) - set(_FIELDS))
    if unknown:
        raise PricingFileError(f"{where}::{unknown[0]}: unknown key (known: {', '.join(_FIELDS)})")
    values: dict[str, float] = {}
    for field in _FIELDS:
        value = entry.get(field)
        if value is None:
            if field in _REQUIRED:
                raise PricingFileError(f"{where}::{field}: is required")
            continue
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value < 0
        ):
            raise PricingFileError(
                f"{where}::{field}: must be a non-negative number, got {value!r}"
            )
        values[field] = float(value)
    return Price(**values)
