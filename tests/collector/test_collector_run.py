"""`routewatch run` as an operator sees it: health, internal metrics, a clean SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import yaml
from rw_testcomponents import post_traces, request_bytes, wait_port
from support.ports import free_port

HERE = Path(__file__).parent


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def test_run_serves_health_and_metrics_and_stops_on_sigterm(tmp_path: Path) -> None:
    port, health, metrics = free_port(), free_port(), free_port()
    config = tmp_path / "c.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "receivers": {"http_push": {"endpoint": "127.0.0.1:${env:RW_PORT}"}},
                "processors": {"batch": {"timeout": "10ms"}},
                "exporters": {"file_out": {"path": str(tmp_path / "out.jsonl")}},
                "extensions": {"health_check": {"endpoint": f"127.0.0.1:{health}"}},
                "service": {
                    "extensions": ["health_check"],
                    "pipelines": {
                        "traces": {
                            "receivers": ["http_push"],
                            "processors": ["batch"],
                            "exporters": ["file_out"],
                        }
                    },
                    "telemetry": {"metrics": {"address": f"127.0.0.1:{metrics}"}},
                },
            }
        )
    )
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "rw_testcomponents.py"), "run", "--config", str(config)],
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(HERE.parent), "RW_PORT": str(port)},
    )
    try:
        wait_port(port, proc)  # receivers start last: everything else is up
        status, body = _get(f"http://127.0.0.1:{health}/")
        assert status == 200 and json.loads(body)["status"] == "Server available"
        assert post_traces(port, request_bytes(1, 4)) == 200
        status, text = _get(f"http://127.0.0.1:{metrics}/metrics")
        assert status == 200
        assert 'otelcol_receiver_accepted_spans{receiver="http_push",transport="http"} 4' in text
        assert "otelcol_process_memory_rss " in text
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    assert "Traceback" not in stderr
    lines = (tmp_path / "out.jsonl").read_text().splitlines()
    assert sum(len(json.loads(line)["span_ids"]) for line in lines) == 4  # flushed on stop
