"""Config loading, merging, env expansion and the Go collector's validation messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from rw_testcomponents import RECORD, make_registry

from routewatch.collector.component import ComponentID, Kind, Signal
from routewatch.collector.config import load, load_config, resolve
from routewatch.collector.config.expand import expand
from routewatch.collector.config.model import PipelineID
from routewatch.collector.errors import ConfigError

BASE: dict[str, Any] = {
    "receivers": {"push": {}},
    "exporters": {"record": {}},
    "service": {"pipelines": {"traces": {"receivers": ["push"], "exporters": ["record"]}}},
}


def _with(**overrides: Any) -> dict[str, Any]:
    doc = yaml.safe_load(yaml.safe_dump(BASE))
    for dotted, value in overrides.items():
        node = doc
        *parents, last = dotted.split("__")
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
    return doc


def _error(doc: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as info:
        resolve(doc, make_registry())
    return str(info.value)


def test_minimal_config_resolves() -> None:
    config = resolve(BASE, make_registry())
    pipeline = config.pipelines[PipelineID(Signal.TRACES)]
    assert pipeline.receivers == [ComponentID("push")]
    assert pipeline.exporters == [ComponentID("record")]
    record = config.component(Kind.EXPORTER, ComponentID("record")).config
    assert record.sending_queue.queue_size == 1000  # Go default, overlaid


def test_files_merge_maps_and_replace_lists(tmp_path: Path) -> None:
    first = tmp_path / "a.yaml"
    second = tmp_path / "b.yaml"
    first.write_text(yaml.safe_dump(BASE | {"processors": {"batch": {"timeout": "1s"}}}))
    second.write_text(
        yaml.safe_dump(
            {
                "processors": {"batch": {"send_batch_size": 10}},
                "exporters": {"record/2": {}},
                "service": {"pipelines": {"traces": {"exporters": ["record/2"]}}},
            }
        )
    )
    config = load_config([first, second], make_registry(), env={})
    batch = config.component(Kind.PROCESSOR, ComponentID("batch")).config
    assert (batch.timeout, batch.send_batch_size) == (1.0, 10)
    pipeline = config.pipelines[PipelineID(Signal.TRACES)]
    assert pipeline.exporters == [ComponentID("record", "2")]  # list replaced, not appended
    assert pipeline.receivers == [ComponentID("push")]  # kept from the first file


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        ("${env:HOST}:4317", {"HOST": "h"}, "h:4317"),
        ("${HOST}", {"HOST": "h"}, "h"),
        ("${env:MISSING:-fallback}", {}, "fallback"),
        ("${env:SET:-fallback}", {"SET": "v"}, "v"),
        ("${env:PORT}", {"PORT": "4317"}, 4317),
        ("${env:ON}", {"ON": "true"}, True),
        ("${env:RATIO}", {"RATIO": "0.5"}, 0.5),
        ("p-${env:PORT}", {"PORT": "1"}, "p-1"),
        ("$$HOME and $${env:X}", {"X": "no"}, "$HOME and ${env:X}"),
        ("${env:MISSING}", {}, ""),
        ("${env:YAML}", {"YAML": "{a: 1}"}, "{a: 1}"),  # never injects structure
        ("no refs $ here", {}, "no refs $ here"),
    ],
)
def test_env_expansion(text: str, env: dict[str, str], expected: Any) -> None:
    assert expand({"k": [text]}, env) == {"k": [expected]}


def test_env_expansion_applies_to_values_only_after_parse(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("exporters:\n  record:\n    timeout: ${env:T}\n    label: '${env:L}'\n")
    raw = load([path], env={"T": "7s", "L": "x: y"})
    assert raw["exporters"]["record"] == {"timeout": "7s", "label": "x: y"}


def test_bad_env_reference_names_the_key() -> None:
    with pytest.raises(ConfigError, match=r"^exporters::record::label: unsupported scheme"):
        expand({"exporters": {"record": {"label": "${file:/etc/passwd}"}}}, {})


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (
            _with(service__pipelines__traces__receivers=["push", "push/2"]),
            'service::pipelines::traces: references receiver "push/2" which is not configured',
        ),
        (
            _with(service__pipelines__traces__exporters=["nope"]),
            'service::pipelines::traces: references exporter "nope" which is not configured',
        ),
        (
            _with(service__pipelines__traces__processors=["batch"]),
            'service::pipelines::traces: references processor "batch" which is not configured',
        ),
        (
            _with(processors={"batch": {}}, service__pipelines__traces__processors=["batch"] * 2),
            'service::pipelines::traces: references processor "batch" multiple times',
        ),
        (
            _with(service__pipelines__traces__receivers=[]),
            "service::pipelines::traces: must have at least one receiver",
        ),
        (
            _with(service__pipelines__traces__exporters=[]),
            "service::pipelines::traces: must have at least one exporter",
        ),
        (
            _with(service__pipelines={}),
            "service::pipelines: service must have at least one pipeline",
        ),
        (
            _with(service__extensions=["health_check"]),
            'service::extensions: references extension "health_check" which is not configured',
        ),
        (_with(receivers={}), "no receiver configuration specified in config"),
        ({"service": {}}, "empty configuration file"),
        (_with(exporters={}), "no exporter configuration specified in config"),
        (
            _with(service__pipelines={"spans": {"receivers": ["push"], "exporters": ["record"]}}),
            'service::pipelines::spans: unknown signal "spans"',
        ),
        (_with(bogus={}), "config: has invalid keys: bogus"),
        (
            _with(exporters={"record": {"retry_on_failure": {"bogus": 1}}}),
            "exporters::record::retry_on_failure: has invalid keys: bogus",
        ),
        (
            _with(exporters={"record": {"label": "invalid"}}),
            "exporters::record: label must not be 'invalid'",
        ),
        (
            _with(processors={"batch": {"send_batch_size": 10, "send_batch_max_size": 5}}),
            "processors::batch: send_batch_max_size must be greater or equal to send_batch_size",
        ),
        (
            _with(processors={"memory_limiter": {"check_interval": "1s"}}),
            "processors::memory_limiter: 'limit_mib' or 'limit_percentage' must be greater "
            "than zero",
        ),
        (
            _with(processors={"memory_limiter": {"check_interval": "0s", "limit_mib": 10}}),
            "processors::memory_limiter: 'check_interval' must be greater than zero",
        ),
        (
            _with(processors={"memory_limiter": {"limit_mib": 10, "spike_limit_mib": 10}}),
            "processors::memory_limiter: 'spike_limit_mib' must be smaller than 'limit_mib'",
        ),
        (
            _with(exporters={"record": {"timeout": "soon"}}),
            'exporters::record::timeout: time: invalid duration "soon"',
        ),
        (
            _with(
                exporters={"record": {}, "record_traces": {}},
                service__pipelines__logs={"receivers": ["push"], "exporters": ["record_traces"]},
            ),
            'service::pipelines::logs: failed to create "record_traces" exporter for data type '
            '"logs": telemetry type is not supported',
        ),
        (
            _with(exporters={"record": {"sending_queue": {"storage": "file_storage"}}}),
            'exporters::record::sending_queue::storage: references extension "file_storage" '
            "which is not enabled in service::extensions",
        ),
        (
            _with(receivers={"push": {}, "/x": {}}),
            "receivers: id '/x': the part before / should not be empty",
        ),
        (
            _with(exporters={"record": {}, "record/": {}}),
            "exporters: id 'record/': the part after / should not be empty",
        ),
    ],
)
def test_validation_messages(doc: dict[str, Any], message: str) -> None:
    assert _error(doc) == message


def test_unknown_type_lists_valid_values() -> None:
    message = _error(_with(receivers={"foo": {}}))
    assert message.startswith('receivers: unknown type: "foo" for id: "foo" (valid values: [')
    valid = message.split("[", 1)[1].rstrip(")]").split()
    assert "push" in valid and "http_push" in valid


def test_unused_components_are_fine() -> None:
    config = resolve(_with(exporters={"record": {}, "record/unused": {}}), make_registry())
    assert ComponentID("record", "unused") in config.components[Kind.EXPORTER]


CONNECTED = {
    "receivers": {"push": {}},
    "exporters": {"record": {}},
    "connectors": {"to_logs": {}},
    "service": {
        "pipelines": {
            "metrics": {"receivers": ["push"], "exporters": ["to_logs"]},
            "logs": {"receivers": ["to_logs"], "exporters": ["record"]},
        }
    },
}


def test_connector_metrics_to_logs_resolves() -> None:
    resolve(CONNECTED, make_registry())


def test_connector_used_only_as_exporter() -> None:
    doc = yaml.safe_load(yaml.safe_dump(CONNECTED))
    doc["service"]["pipelines"]["logs"]["receivers"] = ["push"]
    assert _error(doc) == (
        'connectors::to_logs: connector "to_logs" used as exporter in [metrics] pipeline but '
        "not used in any supported receiver pipeline"
    )


def test_connector_used_only_as_receiver() -> None:
    doc = yaml.safe_load(yaml.safe_dump(CONNECTED))
    doc["service"]["pipelines"]["metrics"]["exporters"] = ["record"]
    assert _error(doc) == (
        'connectors::to_logs: connector "to_logs" used as receiver in [logs] pipeline but '
        "not used in any supported exporter pipeline"
    )


def test_connector_unsupported_signal_pair() -> None:
    doc = yaml.safe_load(yaml.safe_dump(CONNECTED))
    doc["service"]["pipelines"]["metrics"] = {"receivers": ["push"], "exporters": ["record"]}
    doc["service"]["pipelines"]["logs/in"] = {"receivers": ["push"], "exporters": ["to_logs"]}
    assert _error(doc).startswith(
        'connectors::to_logs: connector "to_logs" used as exporter in [logs/in] pipeline'
    )


def test_telemetry_readers_form_is_accepted() -> None:
    doc = _with(
        service__telemetry={
            "metrics": {
                "readers": [{"pull": {"exporter": {"prometheus": {"host": "h", "port": 9}}}}]
            }
        }
    )
    assert resolve(doc, make_registry()).telemetry.metrics.endpoint() == "h:9"


def test_yaml_that_is_not_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="the top level must be a mapping"):
        load([path])


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load([tmp_path / "absent.yaml"])


def test_batch_size_zero_is_allowed_and_env_types_reach_the_component() -> None:
    doc = _with(processors={"batch": {"send_batch_size": "${env:SIZE}"}})
    config = resolve(expand(doc, {"SIZE": "0"}), make_registry())
    assert config.component(Kind.PROCESSOR, ComponentID("batch")).config.send_batch_size == 0


def test_connector_id_shared_with_an_exporter_is_ambiguous() -> None:
    registry = make_registry()
    registry.register(RECORD, "to_logs")  # an exporter type named like the connector
    doc = _with(exporters={"record": {}, "to_logs": {}}, connectors={"to_logs": {}})
    with pytest.raises(ConfigError) as info:
        resolve(doc, registry)
    assert str(info.value) == (
        'connectors::to_logs: ambiguous ID: Found both "to_logs" exporter and "to_logs" '
        "connector. Change one of the components' IDs to eliminate ambiguity (e.g. rename "
        '"to_logs" connector to "to_logs/connector")'
    )
