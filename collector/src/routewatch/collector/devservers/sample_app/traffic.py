"""Mixed support traffic: every operation type, repeated contexts (cache hits), several models."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator, Sequence

from routewatch.collector.devservers.sample_app.messages import SupportRequest
from routewatch.collector.devservers.sample_app.operations import OPERATIONS, operation

MODELS = (
    "anthropic.claude-3-5-sonnet-20240620-v1:0",
    "us.anthropic.claude-3-haiku-20240307-v1:0",
    "amazon.nova-lite-v1:0",
    "meta.llama3-1-8b-instruct-v1:0",
)
# Share of each operation type in the traffic.
WEIGHTS = {
    "standard": 35,
    "infrastructure": 20,
    "meta_monitor": 15,
    "implementation": 15,
    "emergency": 15,
}
STANDARD_TASKS = ("compliance_validation", "security_audit", "cost_analysis", "support_answer")
# Small pools, so contexts repeat and cacheable tasks hit the cache.
SERVICES = ("checkout", "search", "billing")
REGIONS = ("us-east-1", "eu-west-1")


def mixed_traffic(
    seed: int = 0, operations: Sequence[str] | None = None
) -> Iterator[SupportRequest]:
    """An endless, seeded stream of requests of `operations` (default: all); the first ones
    cover each of them once, in order. ValueError for an unknown operation type."""
    rng = random.Random(seed)
    names = [operation(name).name for name in operations] if operations else list(OPERATIONS)
    weights = [WEIGHTS[n] for n in names]
    for i in itertools.count():
        name = names[i] if i < len(names) else rng.choices(names, weights)[0]
        task = rng.choice(STANDARD_TASKS) if name == "standard" else ""
        context = {"service": rng.choice(SERVICES), "region": rng.choice(REGIONS)}
        if name == "emergency":
            context["incident"] = f"INC-{rng.randrange(1000, 10000)}"
        yield SupportRequest(name, context, task=task, model_id=rng.choice(MODELS))
