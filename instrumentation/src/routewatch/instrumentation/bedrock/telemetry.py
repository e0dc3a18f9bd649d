"""The tracer, the instruments and the settings one instrumented process uses for Bedrock."""

from __future__ import annotations

from opentelemetry.metrics import MeterProvider, get_meter
from opentelemetry.semconv.schemas import Schemas
from opentelemetry.trace import TracerProvider, get_tracer

from routewatch.instrumentation import semconv
from routewatch.instrumentation.attribute_sets import AttributeSets
from routewatch.instrumentation.pricing import Price, PriceTable
from routewatch.instrumentation.utils import warn_once
from routewatch.instrumentation.version import __version__

_SCOPE = "routewatch.instrumentation.bedrock"
_MODEL_CACHE_SIZE = 256


class BedrockTelemetry:
    """Created once per `instrument()`; read-only afterwards, shared by every call."""

    def __init__(
        self,
        tracer_provider: TracerProvider | None,
        meter_provider: MeterProvider | None,
        prices: PriceTable,
        capture_content: bool,
    ) -> None:
        schema = Schemas.V1_37_0.value
        self.tracer = get_tracer(_SCOPE, __version__, tracer_provider, schema_url=schema)
        meter = get_meter(_SCOPE, __version__, meter_provider, schema_url=schema)
        self.duration = meter.create_histogram(
            semconv.GEN_AI_CLIENT_OPERATION_DURATION,
            unit="s",
            description="GenAI operation duration",
            explicit_bucket_boundaries_advisory=semconv.DURATION_BUCKETS,
        )
        self.token_usage = meter.create_histogram(
            semconv.GEN_AI_CLIENT_TOKEN_USAGE,
            unit="{token}",
            description="Number of input and output tokens used",
            explicit_bucket_boundaries_advisory=semconv.TOKEN_BUCKETS,
        )
        self.time_to_first_chunk = meter.create_histogram(
            semconv.GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK,
            unit="s",
            description="Time to receive the first chunk of a streamed response",
            explicit_bucket_boundaries_advisory=semconv.DURATION_BUCKETS,
        )
        # TODO: update when semantic conventions exist for the cost of model calls.
        self.cost = meter.create_counter(
            semconv.HYBRID_ROUTING_COST, unit="USD", description="Cost of model calls"
        )
        self.prices = prices
        self.capture_content = capture_content
        self._models: dict[str, tuple[str, Price | None]] = {}
        self.attribute_sets = AttributeSets()

    def resolve_model(self, model_id: str) -> tuple[str, Price | None]:
        """(the model attribute value for metrics, its price). Models without a price are
        `_OTHER` on metrics, which keeps their cardinality bounded whatever ids requests use."""
        resolved = self._models.get(model_id)
        if resolved is not None:
            return resolved
        found = self.prices.lookup(model_id)
        resolved = (semconv.OTHER_VALUE, None) if found is None else found
        # Bounded: past the cache size, ids are neither remembered nor logged one by one.
        if len(self._models) < _MODEL_CACHE_SIZE:
            self._models[model_id] = resolved
            if found is None:
                warn_once(
                    f"price:{model_id}",
                    "routewatch: no price for Bedrock model %s; its calls record no cost "
                    "(add it to the file named in %s)",
                    model_id,
                    semconv.OTEL_PYTHON_ROUTEWATCH_PRICING,
                )
        return resolved
