"""`routewatch alerts send-test` against the local PagerDuty server and moto's SNS."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.alert_delivery import ROUTING_KEY
from support.moto import MotoServer, moto_server

from routewatch.collector.alerting.history import reset_shared_history
from routewatch.collector.alerting.send_test import expand_env, main
from routewatch.collector.devservers.pagerduty_server import PagerDutyServer, pagerduty_server

EU_KEY = "E" * 32
BAD_KEY = "B" * 32


@pytest.fixture(autouse=True)
def fresh_history() -> Iterator[None]:
    reset_shared_history()
    yield
    reset_shared_history()


@pytest.fixture(scope="module")
def pd() -> Iterator[PagerDutyServer]:
    with pagerduty_server(routing_keys={ROUTING_KEY, EU_KEY}) as server:
        yield server


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    with moto_server() as server:
        yield server


def write_config(tmp_path: Path, pd: PagerDutyServer, topic_arn: str, moto: MotoServer) -> Path:
    path = tmp_path / "otel-config.yaml"
    path.write_text(
        f"""
exporters:
  debug: {{}}
  pagerduty:
    routing_key: ${{env:PAGERDUTY_ROUTING_KEY}}
    url: {pd.url}
  pagerduty/eu:
    routing_key: ${{env:PAGERDUTY_EU_ROUTING_KEY}}
    url: {pd.url}
    severities: [critical]
  sns:
    topic_arn: {topic_arn}
    endpoint: ${{env:SNS_ENDPOINT:-http://127.0.0.1:1}}
    region: us-east-1
"""
    )
    return path


@pytest.fixture
def topic(moto: MotoServer) -> tuple[str, str]:
    moto.reset()
    sns, sqs = moto.client("sns"), moto.client("sqs")
    arn = sns.create_topic(Name="prod-hybrid-routing-critical-alerts")["TopicArn"]
    queue = sqs.create_queue(QueueName="alerts")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn)
    return arn, queue


def test_sends_trigger_and_resolve_through_every_alert_exporter(
    tmp_path: Path,
    pd: PagerDutyServer,
    moto: MotoServer,
    topic: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pd.reset()
    monkeypatch.setenv("PAGERDUTY_ROUTING_KEY", ROUTING_KEY)
    monkeypatch.setenv("PAGERDUTY_EU_ROUTING_KEY", EU_KEY)
    monkeypatch.setenv("SNS_ENDPOINT", moto.endpoint_url)
    assert main(["--config", str(write_config(tmp_path, pd, topic[0], moto))]) == 0
    out = capsys.readouterr().out
    lines = [line.split() for line in out.splitlines()[1:]]
    assert [(words[0], words[1], words[2]) for words in lines] == [
        ("pagerduty", "trigger", "delivered"),
        ("pagerduty", "resolve", "delivered"),
        ("pagerduty/eu", "trigger", "delivered"),
        ("pagerduty/eu", "resolve", "delivered"),
        ("sns", "trigger", "delivered"),
        ("sns", "resolve", "delivered"),
    ]
    assert all(words[3] == "in" and words[5] == "ms" for words in lines)
    assert [e["event_action"] for e in pd.events] == ["trigger", "resolve"] * 2
    assert {e["routing_key"] for e in pd.events} == {ROUTING_KEY, EU_KEY}
    assert pd.open_incidents() == [] and len(pd.incidents) == 2
    sqs = moto.client("sqs")
    got = sqs.receive_message(QueueUrl=topic[1], MaxNumberOfMessages=10)["Messages"]
    assert len(got) == 2
    assert ROUTING_KEY not in out and EU_KEY not in out


def test_one_receiver_by_name(
    tmp_path: Path,
    pd: PagerDutyServer,
    moto: MotoServer,
    topic: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pd.reset()
    monkeypatch.setenv("PAGERDUTY_EU_ROUTING_KEY", EU_KEY)
    config = write_config(tmp_path, pd, topic[0], moto)
    assert main(["--config", str(config), "--receiver", "pagerduty/eu"]) == 0
    assert [e["routing_key"] for e in pd.events] == [EU_KEY, EU_KEY]
    assert "pagerduty/eu" in capsys.readouterr().out
    assert main(["--config", str(config), "--receiver", "pagerduty/us"]) == 1
    err = capsys.readouterr().err
    assert "no pagerduty or sns exporter named 'pagerduty/us'" in err
    assert "configured: pagerduty, pagerduty/eu, sns" in err


def test_a_bad_routing_key_prints_the_error_and_exits_1(
    tmp_path: Path,
    pd: PagerDutyServer,
    moto: MotoServer,
    topic: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    pd.reset()
    monkeypatch.setenv("PAGERDUTY_ROUTING_KEY", BAD_KEY)
    config = write_config(tmp_path, pd, topic[0], moto)
    assert main(["--config", str(config), "--receiver", "pagerduty"]) == 1
    out = capsys.readouterr().out
    assert "pagerduty  trigger  FAILED" in out
    assert "after 1 attempt(s): HTTP 400: Event object is invalid: Invalid routing key" in out
    assert "pagerduty  resolve  skipped: the trigger failed" in out
    assert BAD_KEY not in out
    assert caplog.records, "the exporter logs the failure once"
    for record in caplog.records:
        assert BAD_KEY not in record.getMessage()
    assert pd.events == []


def test_config_errors_exit_1_naming_the_key(
    tmp_path: Path,
    pd: PagerDutyServer,
    moto: MotoServer,
    topic: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("PAGERDUTY_ROUTING_KEY", raising=False)
    config = write_config(tmp_path, pd, topic[0], moto)
    assert main(["--config", str(config), "--receiver", "pagerduty"]) == 1
    assert "exporters::pagerduty: routing_key is required" in capsys.readouterr().out
    missing = tmp_path / "nope.yaml"
    assert main(["--config", str(missing)]) == 1
    assert "cannot read" in capsys.readouterr().err
    empty = tmp_path / "empty.yaml"
    empty.write_text("exporters:\n  debug: {}\n")
    assert main(["--config", str(empty)]) == 1
    assert "no pagerduty or sns exporter in the config" in capsys.readouterr().err


def test_env_expansion() -> None:
    env = {"A": "1", "EMPTY": ""}
    assert expand_env(
        {"x": ["${env:A}", "${A}", "${env:B:-dflt}", "$${A}", "${EMPTY:-d}", "${env:B}"]}, env
    ) == {"x": ["1", "1", "dflt", "${A}", "d", ""]}
