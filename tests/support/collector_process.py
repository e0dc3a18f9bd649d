"""One real `routewatch run` subprocess: its config file, its log and its lifecycle.

What runs is exactly what an operator runs (the CLI of this interpreter's environment). Its
stdout and stderr go to a file the test can show (`log()`), so a chatty collector never blocks
on a full pipe. The integration and the alerting end-to-end helpers build on this class.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Self

import yaml

# `python -m routewatch.collector.cli`: the same code as the `routewatch` console script.
CLI = (sys.executable, "-m", "routewatch.collector.cli")


class CollectorProcess:
    def __init__(self, workdir: Path, name: str = "collector") -> None:
        self.workdir = workdir
        self.name = name
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def config_path(self) -> Path:
        return self.workdir / f"{self.name}.yaml"

    @property
    def log_path(self) -> Path:
        return self.workdir / f"{self.name}.log"

    def write_config(self, doc: Mapping[str, Any]) -> None:
        self.config_path.write_text(yaml.safe_dump(dict(doc), sort_keys=False))

    def launch(
        self,
        *args: str,
        command: Sequence[str] = CLI,
        env: Mapping[str, str] | None = None,
    ) -> None:
        """Spawn `command run --config <config_path> *args`; returns at once."""
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [*command, "run", "--config", str(self.config_path), *args],
                stdout=log,
                stderr=log,
                env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
            )

    def wait_until(self, ready: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
        """Poll `ready` until it holds; fail with the log if the process exits or time is up."""
        assert self.proc is not None, "launch() first"
        deadline = time.monotonic() + timeout
        while not ready():
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited {self.proc.returncode}:\n{self.log()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name}: {what} not within {timeout}s:\n{self.log()}")
            time.sleep(0.02)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 30.0) -> int:
        """Send `sig` and wait; the exit code. A process that outlives `timeout` is killed."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        return int(self.proc.returncode)

    def kill(self) -> None:
        """kill -9: no shutdown hook runs, nothing is flushed."""
        self.stop(signal.SIGKILL, timeout=10)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()
