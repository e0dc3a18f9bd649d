"""`hybrid_routing.cost`: the built-in price table, the override file, and what happens when
the file is missing or broken or a model has no price."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from bedrock_harness import CACHE_READ, CACHE_WRITE, INPUT, OUTPUT, Driver, Telemetry

from routewatch.instrumentation import semconv
from routewatch.instrumentation.pricing import Price, load_price_table
from routewatch.instrumentation.pricing.builtin import BUILTIN_PRICES
from routewatch.instrumentation.pricing.load import PricingFileError, read_price_file

SONNET_3_5 = "anthropic.claude-3-5-sonnet-20240620-v1:0"
MESSAGES = [{"role": "user", "content": [{"text": "Hi"}]}]


def _cost(price: Price) -> float:
    return (
        INPUT * price.input
        + OUTPUT * price.output
        + CACHE_READ * (price.cache_read if price.cache_read is not None else price.input)
        + CACHE_WRITE * (price.cache_write if price.cache_write is not None else price.input)
    ) / 1000


@pytest.mark.parametrize(
    "model",
    [
        "anthropic.claude-3-haiku-20240307-v1:0",
        "anthropic.claude-3-sonnet-20240229-v1:0",
        "anthropic.claude-3-opus-20240229-v1:0",
        "anthropic.claude-3-5-haiku-20241022-v1:0",
        SONNET_3_5,
        "anthropic.claude-3-5-sonnet-20241022-v2:0",
        "anthropic.claude-3-7-sonnet-20250219-v1:0",
        "anthropic.claude-sonnet-4-20250514-v1:0",
        "anthropic.claude-opus-4-20250514-v1:0",
        "amazon.nova-micro-v1:0",
        "amazon.nova-lite-v1:0",
        "amazon.nova-pro-v1:0",
        "amazon.titan-text-express-v1",
        "amazon.titan-text-lite-v1",
        "meta.llama3-8b-instruct-v1:0",
        "meta.llama3-1-70b-instruct-v1:0",
        "meta.llama3-3-70b-instruct-v1:0",
        "mistral.mistral-7b-instruct-v0:2",
        "mistral.mistral-large-2407-v1:0",
        "cohere.command-r-v1:0",
        "cohere.command-r-plus-v1:0",
    ],
)
def test_builtin_table_prices_the_common_models(model: str) -> None:
    price = BUILTIN_PRICES[model]
    assert 0 < price.input <= price.output


def test_claude_3_5_sonnet_costs_what_the_original_system_charged() -> None:
    price = BUILTIN_PRICES[SONNET_3_5]
    assert (price.input, price.output) == (0.003, 0.015)


@pytest.mark.parametrize(
    "model_id",
    [SONNET_3_5, f"us.{SONNET_3_5}", f"arn:aws:bedrock:us-east-1::foundation-model/{SONNET_3_5}"],
)
def test_every_name_of_a_model_finds_its_price(model_id: str) -> None:
    assert load_price_table().lookup(model_id) == (SONNET_3_5, BUILTIN_PRICES[SONNET_3_5])


def test_cost_of_a_call(driver: Driver, telemetry: Telemetry, instrumented: Any) -> None:
    driver.converse(modelId=f"eu.{SONNET_3_5}", messages=MESSAGES)
    driver.converse(modelId=SONNET_3_5, messages=MESSAGES)

    (cost,) = telemetry.points(semconv.HYBRID_ROUTING_COST)
    assert cost.attributes[semconv.GEN_AI_REQUEST_MODEL] == SONNET_3_5
    # 11 input, 7 output, 5 cache read, 3 cache write tokens, twice
    assert cost.value == pytest.approx(2 * _cost(BUILTIN_PRICES[SONNET_3_5]))
    assert cost.value == pytest.approx(
        2 * (11 * 0.003 + 7 * 0.015 + 5 * 0.0003 + 3 * 0.00375) / 1000
    )


@pytest.fixture
def price_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str, str], Path]:
    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text)
        monkeypatch.setenv(semconv.OTEL_PYTHON_ROUTEWATCH_PRICING, str(path))
        return path

    return write


@pytest.mark.parametrize(
    ("name", "text"),
    [
        (
            "prices.json",
            json.dumps(
                {
                    "models": {
                        SONNET_3_5: {"input": 0.01, "output": 0.02},
                        "meta.llama9-custom-v1:0": {
                            "input": 0.5,
                            "output": 1,
                            "cache_read": 0,
                            "cache_write": 0,
                        },
                    }
                }
            ),
        ),
        (
            "prices.yaml",
            f"models:\n  {SONNET_3_5}: {{input: 0.01, output: 0.02}}\n"
            "  meta.llama9-custom-v1:0:\n    input: 0.5\n    output: 1\n"
            "    cache_read: 0\n    cache_write: 0\n",
        ),
    ],
    ids=["json", "yaml"],
)
def test_price_file_overrides_and_adds_models(
    name: str,
    text: str,
    price_file: Callable[[str, str], Path],
    driver: Driver,
    telemetry: Telemetry,
    instrument: Callable[..., Any],
) -> None:
    price_file(name, text)
    instrument()
    driver.converse(modelId=SONNET_3_5, messages=MESSAGES)
    driver.converse(modelId="meta.llama9-custom-v1:0", messages=MESSAGES)

    costs = {
        p.attributes[semconv.GEN_AI_REQUEST_MODEL]: p.value
        for p in telemetry.points(semconv.HYBRID_ROUTING_COST)
    }
    assert costs[SONNET_3_5] == pytest.approx(_cost(Price(0.01, 0.02)))
    assert costs["meta.llama9-custom-v1:0"] == pytest.approx((INPUT * 0.5 + OUTPUT * 1) / 1000)
    # A model the user priced is a known model: named on metrics, not _OTHER.
    models = {
        p.attributes[semconv.GEN_AI_REQUEST_MODEL]
        for p in telemetry.points(semconv.GEN_AI_CLIENT_OPERATION_DURATION)
    }
    assert models == {SONNET_3_5, "meta.llama9-custom-v1:0"}


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("missing.json", None, "cannot be read"),
        ("broken.json", "{not json", "not valid JSON"),
        ("broken.yaml", "models: [unclosed", "not valid YAML"),
        (
            "negative.json",
            json.dumps({"models": {SONNET_3_5: {"input": -1, "output": 1}}}),
            f"models::{SONNET_3_5}::input",
        ),
        (
            "no-output.json",
            json.dumps({"models": {SONNET_3_5: {"input": 1}}}),
            f"models::{SONNET_3_5}::output: is required",
        ),
        (
            "typo.json",
            json.dumps({"models": {SONNET_3_5: {"input": 1, "ouput": 1}}}),
            f"models::{SONNET_3_5}::ouput: unknown key",
        ),
        ("no-models.json", json.dumps({"prices": {}}), "models: a mapping"),
    ],
)
def test_broken_price_file_is_logged_once_and_the_builtin_table_used(
    name: str,
    text: str | None,
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    driver: Driver,
    telemetry: Telemetry,
    instrument: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    path = tmp_path / name
    if text is not None:
        path.write_text(text)
    monkeypatch.setenv(semconv.OTEL_PYTHON_ROUTEWATCH_PRICING, str(path))

    with caplog.at_level(logging.WARNING, logger="routewatch.instrumentation"):
        instrument()  # does not raise
        driver.converse(modelId=SONNET_3_5, messages=MESSAGES)
        load_price_table()  # a second load says nothing more
    warnings = [r.getMessage() for r in caplog.records if "pricing file" in r.getMessage()]
    assert len(warnings) == 1
    assert str(path) in warnings[0] and message in warnings[0]
    assert "using the built-in price table" in warnings[0]
    (cost,) = telemetry.points(semconv.HYBRID_ROUTING_COST)
    assert cost.value == pytest.approx(_cost(BUILTIN_PRICES[SONNET_3_5]))


def test_price_file_error_names_the_key_path(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"models": {"m": {"input": "cheap", "output": 1}}}))
    with pytest.raises(
        PricingFileError, match=r"models::m::input: must be a non-negative number, got 'cheap'"
    ):
        read_price_file(path)


def test_model_without_price_records_no_cost_and_says_so_once(
    driver: Driver, telemetry: Telemetry, instrumented: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # A model the local server serves (a known family) but no price table lists; "once" is per
    # process, so the id is unique to this test.
    model = f"meta.llama9-never-priced-{driver.name}-v1:0"
    with caplog.at_level(logging.WARNING, logger="routewatch.instrumentation"):
        driver.converse(modelId=model, messages=MESSAGES)
        driver.converse(modelId=model, messages=MESSAGES)

    assert telemetry.points(semconv.HYBRID_ROUTING_COST) == []
    notes = [r.getMessage() for r in caplog.records if model in r.getMessage()]
    assert len(notes) == 1 and "no price" in notes[0]
    assert len(telemetry.spans()) == 2
