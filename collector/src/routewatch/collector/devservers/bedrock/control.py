"""Control a local Bedrock server in another process through its /_control/ HTTP API.

The same operations as `BedrockServer`'s Python API, for a server started as a subprocess
(`python -m routewatch.collector.devservers.bedrock`), e.g. by the demo.
"""

from __future__ import annotations

import contextlib
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any


class ControlError(RuntimeError):
    """The server refused a control request (the message says which field is wrong)."""


@dataclass
class BedrockControl:
    url: str
    timeout: float = 10.0

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.url}/_control/{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as err:
            detail = err.read().decode(errors="replace")
            with contextlib.suppress(ValueError, KeyError, TypeError):
                detail = json.loads(detail)["message"]
            raise ControlError(f"{method} /_control/{path}: {err.code} {detail}") from None

    def inject(self, kind: str, **fields: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", "faults", {"kind": kind, **fields})
        return result

    def clear_faults(self) -> None:
        self._call("DELETE", "faults")

    def incident(
        self, add_latency: float, duration: float = 0.0, throttle_rate: float = 0.0
    ) -> None:
        self._call(
            "POST",
            "incident",
            {"add_latency": add_latency, "duration": duration, "throttle_rate": throttle_rate},
        )

    def end_incident(self) -> None:
        self._call("DELETE", "incident")

    def configure(self, **changes: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._call("PATCH", "behaviour", changes)
        return result

    def reset(self) -> None:
        self._call("POST", "reset")

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "stats")
        return result

    def records(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", "requests")["requests"]
        return result
