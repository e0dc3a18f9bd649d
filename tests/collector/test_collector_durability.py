"""Acknowledged data survives kill -9: a real collector process with a persistent queue."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from rw_testcomponents import post_traces, request_bytes, span_ids, wait_port
from support.ports import free_port

HERE = Path(__file__).parent


def _start(config: Path, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [
            sys.executable,
            str(HERE / "rw_testcomponents.py"),
            "run",
            "--config",
            str(config),
            "--shutdown-timeout",
            "1s",
        ],
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(HERE.parent)},
    )
    wait_port(port, proc)
    return proc


def _delivered(out: Path) -> set[str]:
    if not out.exists():
        return set()
    return {i for line in out.read_text().splitlines() for i in json.loads(line)["span_ids"]}


@pytest.mark.slow
def test_accepted_spans_survive_kill_9_and_arrive_after_restart(tmp_path: Path) -> None:
    port, out, marker = free_port(), tmp_path / "out.jsonl", tmp_path / "downstream-down"
    storage = tmp_path / "storage"
    config = tmp_path / "collector.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "receivers": {"http_push": {"endpoint": f"127.0.0.1:{port}"}},
                "exporters": {
                    "file_out": {
                        "path": str(out),
                        "down_marker": str(marker),
                        "retry_on_failure": {
                            "initial_interval": "50ms",
                            "max_interval": "100ms",
                            "max_elapsed_time": 0,
                        },
                        "sending_queue": {"storage": "file_storage", "num_consumers": 2},
                    }
                },
                "extensions": {
                    "file_storage": {"directory": str(storage), "create_directory": True}
                },
                "service": {
                    "extensions": ["file_storage"],
                    "pipelines": {
                        "traces": {"receivers": ["http_push"], "exporters": ["file_out"]}
                    },
                    "telemetry": {"metrics": {"address": f"127.0.0.1:{free_port()}"}},
                },
            }
        )
    )
    marker.touch()  # the downstream is down
    expected: set[str] = set()

    # 1. Accept 10 requests, then kill -9.
    proc = _start(config, port)
    for batch in range(10):
        assert post_traces(port, request_bytes(batch, 5)) == 200
        expected |= span_ids(batch, 5)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert _delivered(out) == set()

    # 2. Still down: accept 5 more, SIGTERM. Shutdown is bounded; the queue stays on disk.
    proc = _start(config, port)
    for batch in range(10, 15):
        assert post_traces(port, request_bytes(batch, 5)) == 200
        expected |= span_ids(batch, 5)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    assert _delivered(out) == set()

    # 3. The downstream recovers: everything accepted arrives.
    marker.unlink()
    proc = _start(config, port)
    try:
        deadline = time.monotonic() + 30
        while _delivered(out) != expected and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _delivered(out) == expected
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl-C stops it as cleanly as SIGTERM
        assert proc.wait(timeout=30) == 0
    with sqlite3.connect(storage / "file_storage.db") as db:
        assert db.execute('SELECT COUNT(*) FROM "file_out/traces"').fetchone() == (0,)
