"""A price per model and the lookup that also bounds the model attribute of metrics."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from routewatch.instrumentation.bedrock.model_id import base_model_id


@dataclass(frozen=True, slots=True)
class Price:
    """USD per 1K tokens. Cache prices left out are charged as uncached input."""

    input: float
    output: float
    cache_read: float | None = None
    cache_write: float | None = None

    def cost(
        self, input_tokens: int, output_tokens: int, cache_read: int, cache_write: int
    ) -> float:
        """USD for one call; `input_tokens` excludes the cached input counted apart."""
        read = self.input if self.cache_read is None else self.cache_read
        write = self.input if self.cache_write is None else self.cache_write
        return (
            input_tokens * self.input
            + output_tokens * self.output
            + cache_read * read
            + cache_write * write
        ) / 1000.0


class PriceTable:
    """Prices keyed by model id. A request's model is looked up as given, then by its base
    id (without cross-region prefix or ARN), so one entry prices every way to name a model."""

    def __init__(self, prices: Mapping[str, Price]) -> None:
        self._prices = dict(prices)

    def __len__(self) -> int:
        return len(self._prices)

    def lookup(self, model_id: str) -> tuple[str, Price] | None:
        """(the key that matched, its price), or None for a model without a price."""
        price = self._prices.get(model_id)
        if price is not None:
            return model_id, price
        base = base_model_id(model_id)
        price = self._prices.get(base)
        return None if price is None else (base, price)

    def merged(self, overrides: Mapping[str, Price]) -> PriceTable:
        """A new table: these prices, then `overrides` on top."""
        return PriceTable({**self._prices, **overrides})
