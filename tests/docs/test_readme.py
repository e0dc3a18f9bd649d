"""Every command and config snippet in README.md, exercised.

Commands that would take over the machine are run in a form that checks the same thing:
`make demo`/`make test` as `make -n` (tests/demo runs the demo itself), `routewatch run` with
a second `--config` moving its ports to free ones.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from importlib import metadata, resources
from pathlib import Path

import pytest
import yaml
from readme_snippets import KINDS, Snippet, commands, snippets
from support.otlp_sink import otlp_sink
from support.ports import free_port

from routewatch.collector.cli import main as cli_main
from routewatch.collector.devservers.bedrock import bedrock_server
from routewatch.collector.devservers.pagerduty_server import pagerduty_server
from routewatch.instrumentation import semconv
from routewatch.instrumentation.pricing.load import read_price_file

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
BIN = Path(sys.executable).parent
SNIPPETS = snippets(README)
PAGERDUTY_KEY = "0123456789abcdef0123456789abcdef"


def _of(kind: str) -> list[Snippet]:
    return [s for s in SNIPPETS if s.kind == kind]


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", **extra}


def test_every_block_says_how_it_is_tested() -> None:
    assert SNIPPETS
    for s in SNIPPETS:
        assert s.kind in KINDS, f"README.md line {s.line}: block without a known snippet tag"
        if s.kind == "text":
            assert s.lang == "text", f"README.md line {s.line}: only ```text blocks are pictures"


def test_local_links_point_at_files() -> None:
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README.read_text()):
        if "://" not in target:
            assert (ROOT / target).exists(), f"README.md links to missing {target}"


# -- commands ---------------------------------------------------------------------------


def _make_dry_run(target: str, expected: str) -> None:
    result = subprocess.run(
        ["make", "-n", target], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert expected in result.stdout


def _run_make_demo() -> None:
    # The real run is tests/demo/test_demo_run.py; here: make demo is `routewatch demo`.
    _make_dry_run("demo", "uv run --no-sync routewatch demo")


def _run_make_test() -> None:
    _make_dry_run("test", "uv run --no-sync pytest")


def _run_validate(argv: list[str]) -> None:
    result = subprocess.run(
        [str(BIN / "routewatch"), *argv[1:]], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "config is valid" in result.stderr


def _run_components(argv: list[str]) -> None:
    result = subprocess.run(
        [str(BIN / "routewatch"), *argv[1:]], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    listed = yaml.safe_load(result.stdout)
    names = {kind: {c["name"] for c in entries} for kind, entries in listed.items()}
    assert {"awsemf", "sns", "pagerduty", "file", "debug"} <= names["exporters"]
    assert "routewatch_alerts" in names["connectors"]


def _run_collector(argv: list[str], tmp_path: Path) -> None:
    ports = [free_port() for _ in range(5)]
    overlay = tmp_path / "ports.yaml"
    overlay.write_text(
        yaml.safe_dump(
            {
                "receivers": {
                    "otlp": {
                        "protocols": {
                            "grpc": {"endpoint": f"127.0.0.1:{ports[0]}"},
                            "http": {"endpoint": f"127.0.0.1:{ports[1]}"},
                        }
                    }
                },
                "extensions": {"health_check": {"endpoint": f"127.0.0.1:{ports[2]}"}},
                "connectors": {"routewatch_alerts": {"endpoint": f"127.0.0.1:{ports[3]}"}},
                "service": {"telemetry": {"metrics": {"address": f"127.0.0.1:{ports[4]}"}}},
            }
        )
    )
    config = [str(ROOT / a) if a.endswith(".yaml") else a for a in argv[1:]]
    process = subprocess.Popen(
        [str(BIN / "routewatch"), *config, "--config", str(overlay)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        healthy = False
        while time.monotonic() < deadline and process.poll() is None and not healthy:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{ports[2]}/", timeout=1) as r:
                    healthy = r.status == 200
            except OSError:
                time.sleep(0.2)
        assert healthy, "the collector did not become healthy"
        # The default config writes under ./routewatch-data/.
        assert (tmp_path / "routewatch-data" / "state").is_dir()
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=30)[0].decode(errors="replace")
    assert process.returncode == 0, output


COMMANDS: dict[str, Callable[..., None]] = {
    r"make demo": lambda argv, tmp: _run_make_demo(),
    r"make test": lambda argv, tmp: _run_make_test(),
    r"routewatch validate --config \S+\.yaml": lambda argv, tmp: _run_validate(argv),
    r"routewatch run --config \S+\.yaml": _run_collector,
    r"routewatch components": lambda argv, tmp: _run_components(argv),
}


@pytest.mark.parametrize("command", commands(README))
def test_readme_command(command: str, tmp_path: Path) -> None:
    for pattern, run in COMMANDS.items():
        if re.fullmatch(pattern, command):
            run(shlex.split(command), tmp_path)
            return
    pytest.fail(f"README command {command!r} is not exercised by any test")


# -- instrumenting an app --------------------------------------------------------------


def test_instrument_example_sends_route_spans(tmp_path: Path) -> None:
    (snippet,) = _of("instrument")
    lines = snippet.body.strip().splitlines()
    install = [line for line in lines if line.startswith("pip install ")]
    assert len(install) == 1
    for dist in shlex.split(install[0])[2:]:
        assert metadata.version(dist), f"{dist} is not installable from the lock"
    script = [line for line in lines if not line.startswith("pip install ")]
    with bedrock_server() as bedrock, otlp_sink() as sink:
        body = "\n".join(script).replace("localhost:4317", sink.endpoint)
        result = subprocess.run(
            ["bash", "-e", "-c", body],
            cwd=ROOT,
            env=_env(
                BEDROCK_ENDPOINT_URL=bedrock.url,
                AWS_ACCESS_KEY_ID="testing",
                AWS_SECRET_ACCESS_KEY="testing",
                OTEL_LOGS_EXPORTER="none",
            ),
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        assert len(result.stdout.splitlines()) == 3
        assert sink.wait_for(lambda s: "hybrid_routing.request.duration" in s.metric_names())
        spans = sink.spans()
    routes = sorted(
        next(a.value.string_value for a in s.attributes if a.key == "hybrid_routing.route")
        for s in spans
        if s.name == "route standard"
    )
    assert routes == ["cache", "direct", "direct"]
    assert sum(s.name == "attempt direct" for s in spans) == 2
    assert any(s.name.startswith("chat ") for s in spans)


def test_pricing_snippet_loads(tmp_path: Path) -> None:
    (snippet,) = _of("pricing")
    path = tmp_path / "prices.yaml"
    path.write_text(snippet.body)
    prices = read_price_file(path)
    assert prices["anthropic.claude-3-5-sonnet-20240620-v1:0"].output == 0.015


# -- configs ---------------------------------------------------------------------------


@pytest.mark.parametrize("snippet", _of("fragment") + _of("config"), ids=lambda s: s.id)
def test_config_snippet_validates(
    snippet: Snippet,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PAGERDUTY_ROUTING_KEY", PAGERDUTY_KEY)
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "snippet.yaml"
    path.write_text(snippet.body)
    base = ["--config", str(ROOT / "otel-config.yaml")] if snippet.kind == "fragment" else []
    assert cli_main(["validate", *base, "--config", str(path)]) == 0, capsys.readouterr().err


# The loadbalancing exporter's documented options (otelcol-contrib README).
LB_ROUTING_KEYS_FOR_METRICS = {"service", "resource", "metric", "streamID", "attributes"}
LB_RESOLVERS = {"static", "dns", "k8s", "aws_cloud_map"}


def test_otelcol_snippet_load_balances_metrics_onto_routewatch_instances() -> None:
    (snippet,) = _of("otelcol")
    doc = yaml.safe_load(snippet.body)
    lb = doc["exporters"]["loadbalancing"]
    assert lb["routing_key"] in LB_ROUTING_KEYS_FOR_METRICS
    assert set(lb["protocol"]) == {"otlp"}
    assert len(lb["resolver"]) == 1 and set(lb["resolver"]) <= LB_RESOLVERS
    pipeline = doc["service"]["pipelines"]["metrics"]
    assert pipeline["exporters"] == ["loadbalancing"]
    assert set(pipeline["receivers"]) <= set(doc["receivers"])
    # The backends listen where the routewatch fragment next to it says.
    routewatch = yaml.safe_load(_of("fragment")[-1].body)
    port = routewatch["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"].rsplit(":", 1)[1]
    for host in lb["resolver"]["static"]["hostnames"]:
        assert host.endswith(f":{port}")


# -- names and rules -------------------------------------------------------------------


def test_every_routing_name_is_in_the_readme() -> None:
    text = README.read_text()
    names = [
        value
        for key, value in vars(semconv).items()
        if key.startswith("HYBRID_ROUTING_") and isinstance(value, str)
    ]
    assert len(names) > 10
    for name in names:
        assert f"`{name}`" in text, f"{name} is missing from README.md"


def test_every_default_rule_is_in_the_readme_with_its_runbook() -> None:
    pack = yaml.safe_load(
        resources.files("routewatch.collector.alerting").joinpath("rules/default.yaml").read_text()
    )
    text = README.read_text()
    for rule in pack["rules"]:
        name = rule["alert"]
        runbook = rule["annotations"]["runbook_url"]
        assert f"| {name} |" in text
        assert f"[{name}]({runbook})" in text
        assert (ROOT / runbook).is_file()


# -- commands in the prose ---------------------------------------------------------------

INLINE = re.compile(r"`((?:make|routewatch|python) [^`]*)`")


def _make_n(args: str, expected: str) -> None:
    result = subprocess.run(
        ["make", "-n", *shlex.split(args)], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert expected in result.stdout, result.stdout


def _routewatch(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "routewatch"), *argv], cwd=ROOT, capture_output=True, text=True, check=False
    )


def _check(ok: bool) -> None:
    assert ok


def _send_test(tmp_path: Path) -> None:
    # The README's PagerDuty overlay, pointed at the local PagerDuty server.
    (fragment,) = [s for s in _of("fragment") if "pagerduty" in s.body]
    doc = yaml.safe_load(fragment.body)
    with pagerduty_server() as pd:
        doc["exporters"]["pagerduty"]["url"] = pd.url
        config = yaml.safe_load((ROOT / "otel-config.yaml").read_text())
        for section, value in doc.items():
            config.setdefault(section, {}).update(value)
        path = tmp_path / "with-pagerduty.yaml"
        path.write_text(yaml.safe_dump(config))
        result = subprocess.run(
            [str(BIN / "routewatch"), "alerts", "send-test", "--config", str(path)],
            cwd=tmp_path,
            env=_env(PAGERDUTY_ROUTING_KEY=PAGERDUTY_KEY),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert [e["event_action"] for e in pd.events] == ["trigger", "resolve"]


INLINE_CHECKS: dict[str, Callable[[Path], None]] = {
    "make demo": lambda tmp: _make_n("demo", "routewatch demo"),
    'make demo DEMO_ARGS="--duration 30"': lambda tmp: _make_n(
        'demo DEMO_ARGS="--duration 30"', "routewatch demo --duration 30"
    ),
    "make test": lambda tmp: _make_n("test", "pytest"),
    "make lint": lambda tmp: _make_n("lint", "ruff check"),
    "make bench": lambda tmp: _make_n("bench", "benchmarks/*.py"),
    "python docs/gen_configuration.py": lambda tmp: _check(
        subprocess.run(
            [sys.executable, "docs/gen_configuration.py", "--check"], cwd=ROOT, check=False
        ).returncode
        == 0
    ),
    "routewatch demo --help": lambda tmp: _check(
        "--keep-running" in _routewatch("demo", "--help").stdout
    ),
    # Run for real by tests/demo/test_demo_run.py.
    "routewatch demo": lambda tmp: _make_n("demo", "routewatch demo"),
    "routewatch run": lambda tmp: _check(_routewatch("run", "--help").returncode == 0),
    "routewatch validate": lambda tmp: _check(_routewatch("validate").returncode == 0),
    "routewatch validate --config FILE": lambda tmp: _check(
        _routewatch("validate", "--config", "otel-config.yaml").returncode == 0
    ),
    "routewatch alerts test FILE...": lambda tmp: _check(
        _routewatch("alerts", "test", "tests/alerting/rules/latency_and_success.yaml").returncode
        == 0
    ),
    "routewatch alerts send-test --config FILE": _send_test,
}


@pytest.mark.parametrize(
    "command", sorted({" ".join(c.split()) for c in INLINE.findall(README.read_text())})
)
def test_readme_inline_command(command: str, tmp_path: Path) -> None:
    assert command in INLINE_CHECKS, f"README mentions `{command}`: add a check here"
    INLINE_CHECKS[command](tmp_path)
