"""Bedrock model identifiers: the base model id behind cross-region profiles and ARNs.

Requests name a model as a base id (`anthropic.claude-3-5-sonnet-20240620-v1:0`), as a
cross-region inference profile (`us.anthropic...`, `eu.`, `apac.`, `global.`, ...) or as an
ARN (`arn:aws:bedrock:us-east-1::foundation-model/<id>`,
`arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.<id>`). Family detection and
pricing work on the base id; spans keep the id the request used.
"""

from __future__ import annotations

from functools import lru_cache

# Geography prefixes of Bedrock's system-defined cross-region inference profiles.
REGION_PREFIXES = frozenset({"us", "us-gov", "eu", "apac", "jp", "au", "ca", "global"})


@lru_cache(maxsize=512)
def base_model_id(model_id: str) -> str:
    """The base model id of `model_id`; for an ARN without one (a provisioned model), the
    resource id, which matches no family and no price."""
    model = model_id
    if model.startswith("arn:"):
        # arn:partition:service:region:account:resource-type/resource-id
        resource = model.split(":", 5)[-1]
        model = resource.rpartition("/")[2]
    prefix, dot, rest = model.partition(".")
    if dot and prefix in REGION_PREFIXES:
        model = rest
    return model
