"""Fixtures of the devservers tests: one local Bedrock server per module, reset per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from botocore.config import Config
from support.clocks import ManualClock

from routewatch.collector.devservers.bedrock import BedrockServer, bedrock_server


@pytest.fixture(scope="module")
def _module_bedrock() -> Iterator[BedrockServer]:
    with bedrock_server() as srv:
        yield srv


@pytest.fixture
def bedrock(_module_bedrock: BedrockServer) -> BedrockServer:
    _module_bedrock.reset()
    return _module_bedrock


@pytest.fixture
def client(bedrock: BedrockServer) -> object:
    """A boto3 bedrock-runtime client without retries, so each fault shows as it is."""
    return bedrock.client(config=Config(retries={"total_max_attempts": 1}))


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()
