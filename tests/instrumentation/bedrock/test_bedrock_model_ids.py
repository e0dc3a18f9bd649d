"""Model ids: cross-region inference profiles and ARNs resolve to the base model and family."""

from __future__ import annotations

import pytest

from routewatch.instrumentation.bedrock.families import GENERIC, family_for
from routewatch.instrumentation.bedrock.model_id import base_model_id

SONNET = "anthropic.claude-3-5-sonnet-20240620-v1:0"


@pytest.mark.parametrize(
    ("model_id", "base"),
    [
        (SONNET, SONNET),
        (f"us.{SONNET}", SONNET),
        (f"eu.{SONNET}", SONNET),
        (f"apac.{SONNET}", SONNET),
        (f"global.{SONNET}", SONNET),
        (f"us-gov.{SONNET}", SONNET),
        (f"arn:aws:bedrock:us-east-1::foundation-model/{SONNET}", SONNET),
        (f"arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.{SONNET}", SONNET),
        ("arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc123", "abc123"),
        ("amazon.titan-text-express-v1", "amazon.titan-text-express-v1"),
    ],
)
def test_base_model_id(model_id: str, base: str) -> None:
    assert base_model_id(model_id) == base


@pytest.mark.parametrize(
    ("model_id", "family"),
    [
        (f"global.{SONNET}", "anthropic.claude"),
        ("us.amazon.nova-premier-v1:0", "amazon.nova"),
        ("amazon.titan-text-premier-v1:0", "amazon.titan-text"),
        ("eu.meta.llama3-2-1b-instruct-v1:0", "meta.llama"),
        ("mistral.mixtral-8x7b-instruct-v0:1", "mistral"),
        ("cohere.command-r-v1:0", "cohere.command-r"),
        ("cohere.command-light-text-v14", "cohere.command"),
        ("amazon.titan-embed-text-v2:0", "generic"),
        ("arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc123", "generic"),
    ],
)
def test_family_for(model_id: str, family: str) -> None:
    handler = family_for(base_model_id(model_id))
    assert handler.name == family
    assert (handler is GENERIC) == (family == "generic")
