"""Built-in on-demand Bedrock prices (USD per 1K tokens, us-east-1, as published by AWS in 2025).

Override or extend them with OTEL_PYTHON_ROUTEWATCH_PRICING; prices change, regions differ,
and batch, provisioned and negotiated prices are not here.
"""

from __future__ import annotations

from typing import Final

from routewatch.instrumentation.pricing.table import Price

# Anthropic on Bedrock: cache reads at 10% of input, cache writes at 125%.
_CLAUDE_HAIKU_3 = Price(0.00025, 0.00125, 0.00003, 0.0003)
_CLAUDE_HAIKU_3_5 = Price(0.0008, 0.004, 0.00008, 0.001)
_CLAUDE_HAIKU_4_5 = Price(0.001, 0.005, 0.0001, 0.00125)
_CLAUDE_SONNET = Price(0.003, 0.015, 0.0003, 0.00375)
_CLAUDE_OPUS = Price(0.015, 0.075, 0.0015, 0.01875)
_CLAUDE_OPUS_4_5 = Price(0.005, 0.025, 0.0005, 0.00625)

BUILTIN_PRICES: Final[dict[str, Price]] = {
    # Anthropic Claude
    "anthropic.claude-3-haiku-20240307-v1:0": _CLAUDE_HAIKU_3,
    "anthropic.claude-3-sonnet-20240229-v1:0": _CLAUDE_SONNET,
    "anthropic.claude-3-opus-20240229-v1:0": _CLAUDE_OPUS,
    "anthropic.claude-3-5-haiku-20241022-v1:0": _CLAUDE_HAIKU_3_5,
    "anthropic.claude-3-5-sonnet-20240620-v1:0": _CLAUDE_SONNET,
    "anthropic.claude-3-5-sonnet-20241022-v2:0": _CLAUDE_SONNET,
    "anthropic.claude-3-7-sonnet-20250219-v1:0": _CLAUDE_SONNET,
    "anthropic.claude-sonnet-4-20250514-v1:0": _CLAUDE_SONNET,
    "anthropic.claude-sonnet-4-5-20250929-v1:0": _CLAUDE_SONNET,
    "anthropic.claude-haiku-4-5-20251001-v1:0": _CLAUDE_HAIKU_4_5,
    "anthropic.claude-opus-4-20250514-v1:0": _CLAUDE_OPUS,
    "anthropic.claude-opus-4-1-20250805-v1:0": _CLAUDE_OPUS,
    "anthropic.claude-opus-4-5-20251101-v1:0": _CLAUDE_OPUS_4_5,
    # Amazon Nova: cache reads at 25% of input, cache writes not charged extra.
    "amazon.nova-micro-v1:0": Price(0.000035, 0.00014, 0.00000875, 0.000035),
    "amazon.nova-lite-v1:0": Price(0.00006, 0.00024, 0.000015, 0.00006),
    "amazon.nova-pro-v1:0": Price(0.0008, 0.0032, 0.0002, 0.0008),
    "amazon.nova-premier-v1:0": Price(0.0025, 0.0125, 0.000625, 0.0025),
    # Amazon Titan Text
    "amazon.titan-text-lite-v1": Price(0.00015, 0.0002),
    "amazon.titan-text-express-v1": Price(0.0002, 0.0006),
    "amazon.titan-text-premier-v1:0": Price(0.0005, 0.0015),
    # Meta Llama
    "meta.llama3-8b-instruct-v1:0": Price(0.0003, 0.0006),
    "meta.llama3-70b-instruct-v1:0": Price(0.00265, 0.0035),
    "meta.llama3-1-8b-instruct-v1:0": Price(0.00022, 0.00022),
    "meta.llama3-1-70b-instruct-v1:0": Price(0.00072, 0.00072),
    "meta.llama3-1-405b-instruct-v1:0": Price(0.0024, 0.0024),
    "meta.llama3-2-1b-instruct-v1:0": Price(0.0001, 0.0001),
    "meta.llama3-2-3b-instruct-v1:0": Price(0.00015, 0.00015),
    "meta.llama3-2-11b-instruct-v1:0": Price(0.00016, 0.00016),
    "meta.llama3-2-90b-instruct-v1:0": Price(0.00072, 0.00072),
    "meta.llama3-3-70b-instruct-v1:0": Price(0.00072, 0.00072),
    # Mistral AI
    "mistral.mistral-7b-instruct-v0:2": Price(0.00015, 0.0002),
    "mistral.mixtral-8x7b-instruct-v0:1": Price(0.00045, 0.0007),
    "mistral.mistral-small-2402-v1:0": Price(0.001, 0.003),
    "mistral.mistral-large-2402-v1:0": Price(0.004, 0.012),
    "mistral.mistral-large-2407-v1:0": Price(0.002, 0.006),
    # Cohere
    "cohere.command-text-v14": Price(0.0015, 0.002),
    "cohere.command-light-text-v14": Price(0.0003, 0.0006),
    "cohere.command-r-v1:0": Price(0.0005, 0.0015),
    "cohere.command-r-plus-v1:0": Price(0.003, 0.015),
}
