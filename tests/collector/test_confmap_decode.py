"""Config decoding: defaults overlaid, unknown keys refused, key paths named."""

import pytest

from routewatch.collector.confmap import Duration, decode, duration_from
from routewatch.collector.errors import ConfigError
from routewatch.collector.exporterhelper import ExporterHelperConfig


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("5s", 5.0), ("200ms", 0.2), ("1m30s", 90.0), ("1h", 3600.0), ("0", 0.0), (2, 2.0)],
)
def test_duration_parses_go_notation(text: object, seconds: float) -> None:
    assert duration_from(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["5", "5 s", "s", "", "1x", True])
def test_duration_refuses_bad_text(text: object) -> None:
    with pytest.raises(ValueError):
        duration_from(text)


def test_decode_overlays_defaults() -> None:
    cfg = decode(
        ExporterHelperConfig,
        {"timeout": "10s", "retry_on_failure": {"max_interval": "1m"}},
        "exporters::otlp",
    )
    assert cfg.timeout == 10.0 and isinstance(cfg.timeout, Duration)
    assert cfg.retry_on_failure.max_interval == 60.0
    assert cfg.retry_on_failure.initial_interval == 5.0
    assert cfg.sending_queue.queue_size == 1000


def test_unknown_key_names_the_path() -> None:
    with pytest.raises(
        ConfigError, match=r"^exporters::otlp::retry_on_failure: has invalid keys: bogus$"
    ):
        decode(ExporterHelperConfig, {"retry_on_failure": {"bogus": 1}}, "exporters::otlp")


def test_wrong_type_names_the_path() -> None:
    with pytest.raises(ConfigError, match=r"^exporters::otlp::sending_queue::queue_size: expected"):
        decode(ExporterHelperConfig, {"sending_queue": {"queue_size": "many"}}, "exporters::otlp")


def test_validate_error_names_the_path() -> None:
    with pytest.raises(ConfigError, match=r"^exporters::otlp::sending_queue: 'queue_size' must be"):
        decode(ExporterHelperConfig, {"sending_queue": {"queue_size": 0}}, "exporters::otlp")
