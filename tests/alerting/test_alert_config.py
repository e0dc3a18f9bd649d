"""Config of the connector and its rules: errors name the key path; factory; lifecycle;
fingerprint algorithm; annotation templates."""

from pathlib import Path

import pytest
from alerting.engine_helpers import (
    LATENCY_RULE,
    Host,
    Recorder,
    config,
    engine_clock,
    latency_config,
    settings,
)
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)

from routewatch.collector.alerting.state import fingerprint
from routewatch.collector.alerting.template import Template, TemplateData
from routewatch.collector.component import Kind, Signal
from routewatch.collector.connectors.routewatch_alerts.connector import AlertsConnector
from routewatch.collector.connectors.routewatch_alerts.factory import FACTORY
from routewatch.collector.errors import ConfigError, PermanentError, RetryableError

PREFIX = "connectors::routewatch_alerts"


def build(raw: dict[str, object]) -> AlertsConnector:
    return AlertsConnector(settings(), config(raw), Recorder(), clock=engine_clock())


def rule(**changes: object) -> dict[str, object]:
    import yaml

    base = yaml.safe_load(LATENCY_RULE)
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        (
            [rule(), rule(alert="B"), rule(alert="C", thresholds={"critical": "> x"})],
            f"{PREFIX}::rules[2]::thresholds: critical: invalid comparison '> x'",
        ),
        ([rule(**{"for": "soon"})], f'{PREFIX}::rules[0]::for: time: invalid duration "soon"'),
        ([rule(bogus=1)], f"{PREFIX}::rules[0]: has invalid keys: bogus"),
        ([rule(kind="median")], f"{PREFIX}::rules[0]::kind: invalid value 'median'"),
        ([rule(quantile=None)], f"{PREFIX}::rules[0]: quantile must be a number in [0, 1]"),
        ([rule(thresholds=None)], f"{PREFIX}::rules[0]: thresholds is required for kind quantile"),
        (
            [rule(annotations={"summary": "{{ os.system('x') }}"})],
            f"{PREFIX}::rules[0]: annotations::summary: unknown template expression",
        ),
        ([rule(), rule()], f"{PREFIX}::rules[1]: alert 'RouteLatencyHigh' is defined twice"),
        ([rule(inhibits=["Nope"])], f"{PREFIX}::rules[0]::inhibits: unknown alert(s) Nope"),
        (
            [{"alert": "R", "kind": "ratio", "thresholds": {"warning": "< 1"}}],
            f"{PREFIX}::rules[0]: numerator and denominator are required",
        ),
        (
            [{"alert": "R", "kind": "absent", "metric": "m", "thresholds": {"warning": "> 1"}}],
            f"{PREFIX}::rules[0]: thresholds: not allowed for kind absent",
        ),
    ],
)
def test_rule_errors_name_the_key_path(rules: list[object], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        build({"rules": rules})
    assert str(err.value).startswith(message), str(err.value)


def test_config_errors_name_the_key_path() -> None:
    with pytest.raises(ConfigError, match=rf"^{PREFIX}::inhibit_rules\[0\]: source_matchers"):
        config({"inhibit_rules": [{"source_matchers": ['sev=~"("'], "target_matchers": ["a=b"]}]})
    with pytest.raises(ConfigError, match=rf"^{PREFIX}::silences\[0\]: ends_at: invalid time"):
        config({"silences": [{"matchers": ["a=b"], "ends_at": "tomorrow"}]})
    with pytest.raises(ConfigError, match=rf"^{PREFIX}: trace_url_template must contain"):
        config({"trace_url_template": "http://x/"})
    with pytest.raises(ConfigError, match=rf"^{PREFIX}: endpoint: expected host:port"):
        config({"endpoint": "localhost"})


def test_rule_file_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - alert: X\n    kind: value\n    metric: m\n")
    with pytest.raises(ConfigError) as err:
        build({"rule_files": [str(bad)]})
    assert str(err.value) == (
        f"{PREFIX}::rule_files[0]({bad})::rules[0]: thresholds is required for kind value"
    )
    with pytest.raises(ConfigError, match="cannot read rule file"):
        build({"rule_files": [str(tmp_path / "missing.yaml")]})


def test_shipped_pack_resolves_by_its_package_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    conn = build({"rule_files": ["rules/default.yaml"]})
    assert "RouteLatencyHigh" in {r.name for r in conn.rule_set.rules}


def test_factory_declares_metrics_to_logs() -> None:
    assert FACTORY.type == "routewatch_alerts" and FACTORY.kind == Kind.CONNECTOR
    create = FACTORY.create[(Signal.METRICS, Signal.LOGS)]
    cfg = FACTORY.create_default_config()
    assert (cfg.group_wait, cfg.group_interval, cfg.repeat_interval) == (30, 300, 4 * 3600)
    assert cfg.send_resolved is True and cfg.endpoint == ""
    assert isinstance(create(settings(), cfg, Recorder()), AlertsConnector)
    with pytest.raises(ConfigError, match="needs a logs pipeline"):
        create(settings(), cfg, None)


async def test_lifecycle_is_safe_in_any_order(tmp_path: Path) -> None:
    conn = AlertsConnector(settings(), latency_config(), Recorder(), clock=engine_clock())
    await conn.shutdown()  # without start
    with pytest.raises(RetryableError):
        await conn.consume(ExportMetricsServiceRequest())
    await conn.start(Host())
    with pytest.raises(PermanentError):
        await conn.consume(ExportLogsServiceRequest())
    await conn.shutdown()
    await conn.shutdown()


async def test_missing_storage_extension_fails_start() -> None:
    conn = AlertsConnector(
        settings(), latency_config(storage="file_storage/x"), Recorder(), clock=engine_clock()
    )
    with pytest.raises(ConfigError, match="file_storage/x"):
        await conn.start(Host())


def test_fingerprint_is_fnv1a_over_sorted_labels() -> None:
    def fnv1a(data: bytes) -> str:
        h = 0xCBF29CE484222325
        for b in data:
            h = ((h ^ b) * 0x100000001B3) % 2**64
        return f"{h:016x}"

    labels = {"hybrid_routing.route": "direct", "alertname": "RouteLatencyHigh"}
    raw = b"alertname\xffRouteLatencyHigh\xffhybrid_routing.route\xffdirect\xff"
    assert fingerprint(labels) == fnv1a(raw)
    assert fingerprint({}) == "cbf29ce484222325"
    assert fnv1a(b"a") == "af63dc4c8601ec8c"  # the published FNV-1a 64 test vector


def test_templates_render_a_fixed_set_of_expressions() -> None:
    t = Template.compile(
        "{{ labels['r'] }}/{{ labels.r }}/{{ $labels.r }} {{ value | percent }}% "
        "{{ value | round(1) }} {{ severity }} {{ threshold }} {{ labels['missing'] }}."
    )
    data = TemplateData(labels={"r": "direct"}, value=0.8734, severity="error", threshold="< 0.9")
    assert t.render(data) == "direct/direct/direct 87.3% 0.9 error < 0.9 ."
    for bad in ("{{ value.__class__ }}", "{{ value | upper }}", "{{ value"):
        with pytest.raises(ValueError):
            Template.compile(bad)
