"""Prices of Bedrock models, for the `hybrid_routing.cost` counter.

The built-in table (`builtin.py`) holds on-demand prices per 1K tokens; a YAML or JSON file
named in OTEL_PYTHON_ROUTEWATCH_PRICING adds models or replaces their prices (`load.py`).
"""

from routewatch.instrumentation.pricing.load import load_price_table
from routewatch.instrumentation.pricing.table import Price, PriceTable

__all__ = ["Price", "PriceTable", "load_price_table"]
