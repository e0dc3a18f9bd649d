"""The local Bedrock server's mutable state: behaviour, injected faults, incidents, a request log.

Shared by the aiohttp handlers (server thread) and the Python control API (test thread), so
every method takes the lock. Time for incidents comes from an injectable clock.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from routewatch.collector.devservers.bedrock.faults import Fault
from routewatch.collector.devservers.bedrock.generation import (
    Generation,
    Prompt,
    answer_pieces,
    estimate_input_tokens,
)
from routewatch.collector.devservers.latency import Latency


@dataclass
class Behaviour:
    """How the server answers when no fault applies."""

    # Seconds before the response (or the first stream event): a latency spec
    # (`fixed:0.05`, `uniform:0.01:0.2`, `lognormal:0.1:0.5`).
    latency: str = "fixed:0"
    # Seconds between stream events.
    chunk_interval: str = "fixed:0"
    # Output tokens per answer; a range [output_tokens, output_tokens_max] when the latter is
    # larger. Capped by the request's max tokens (then the stop reason says so).
    output_tokens: int = 48
    output_tokens_max: int = 0
    # Input tokens reported; 0 = estimated from the prompt (about 4 characters a token).
    input_tokens: int = 0
    # Prompt-cache tokens reported (Converse cacheRead/WriteInputTokens and the family fields).
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    # Converse stop reason to report instead of end_turn/max_tokens (e.g. content_filtered,
    # guardrail_intervened: an unsuccessful answer); empty = the real one.
    stop_reason: str = ""
    # Text pieces a stream carries (content events).
    chunk_count: int = 8
    # Seed of every random choice (latency, token range, fault and incident rates).
    seed: int | None = None

    def validate(self) -> None:
        Latency.parse(self.latency)
        Latency.parse(self.chunk_interval)
        for name in ("output_tokens", "output_tokens_max", "input_tokens"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        for name in ("cache_read_tokens", "cache_write_tokens"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.chunk_count < 1:
            raise ValueError(f"chunk_count must be >= 1, got {self.chunk_count}")


@dataclass
class Incident:
    """A degraded period: every response is `add_latency` seconds slower and a share
    `throttle_rate` of requests is throttled, for `duration` seconds (0 = until ended)."""

    add_latency: float = 0.0
    duration: float = 0.0
    throttle_rate: float = 0.0

    def validate(self) -> None:
        if self.add_latency < 0 or self.duration < 0:
            raise ValueError("add_latency and duration must be >= 0")
        if not 0.0 <= self.throttle_rate <= 1.0:
            raise ValueError(f"throttle_rate must be within [0, 1], got {self.throttle_rate}")


@dataclass(frozen=True)
class Plan:
    """What the server decided for one request before answering it."""

    delay: float
    fault: Fault | None
    output_tokens: int
    behaviour: Behaviour
    chunk_interval: Latency

    def generation(self, request_id: str, model_id: str, prompt: Prompt) -> Generation:
        wanted = self.output_tokens
        limit = prompt.max_tokens
        output = min(wanted, limit) if limit else wanted
        return Generation(
            request_id=request_id,
            model_id=model_id,
            pieces=answer_pieces(output, self.behaviour.chunk_count),
            input_tokens=self.behaviour.input_tokens or estimate_input_tokens(prompt.text),
            output_tokens=output,
            cache_read_tokens=self.behaviour.cache_read_tokens,
            cache_write_tokens=self.behaviour.cache_write_tokens,
            truncated=bool(limit and wanted > limit),
            stop_reason=self.behaviour.stop_reason,
            latency_ms=round(self.delay * 1000),
        )


@dataclass(frozen=True)
class RequestRecord:
    """One request as the server saw it (the log tests and the demo read)."""

    operation: str
    model_id: str
    status: int
    error: str | None
    delay: float
    fault: str | None
    input_tokens: int = 0
    output_tokens: int = 0
    # What the request asked for (Converse inferenceConfig or the family's fields).
    max_tokens: int | None = None
    temperature: float | None = None


@dataclass
class ServerState:
    behaviour: Behaviour = field(default_factory=Behaviour)
    clock: Callable[[], float] = time.monotonic
    log_size: int = 10_000

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._incident: Incident | None = None
        self._incident_start = 0.0
        self._log: deque[RequestRecord] = deque(maxlen=self.log_size)
        self._initial = self.behaviour
        self._apply(self.behaviour)

    def _apply(self, behaviour: Behaviour) -> None:
        behaviour.validate()
        self.behaviour = behaviour
        self._rng = random.Random(behaviour.seed)
        self._latency = Latency.parse(behaviour.latency, seed=self._rng.randrange(2**32))
        self._interval = Latency.parse(behaviour.chunk_interval, seed=self._rng.randrange(2**32))

    # -- control API (also served over HTTP under /_control/) -------------------------------

    def configure(self, **changes: Any) -> Behaviour:
        """Change behaviour fields (see `Behaviour`); the random streams restart from the seed."""
        with self._lock:
            self._apply(replace(self.behaviour, **changes))
            return self.behaviour

    def inject(self, fault: Fault) -> Fault:
        fault.validate()
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def start_incident(self, incident: Incident) -> None:
        incident.validate()
        with self._lock:
            self._incident = incident
            self._incident_start = self.clock()

    def end_incident(self) -> None:
        with self._lock:
            self._incident = None

    def reset(self) -> None:
        """The behaviour the server started with, no faults, no incident, an empty log."""
        with self._lock:
            self._faults.clear()
            self._incident = None
            self._log.clear()
            self._apply(self._initial)

    def records(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._log)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            by_status = Counter(f"{r.operation} {r.status}" for r in self._log)
            return {
                "requests": len(self._log),
                "by_operation_status": dict(sorted(by_status.items())),
                "errors": dict(Counter(r.error for r in self._log if r.error)),
                "faults_pending": len(self._faults),
                "incident": asdict(incident) if (incident := self._active_incident()) else None,
                "behaviour": asdict(self.behaviour),
            }

    # -- used by the request handlers ---------------------------------------------------------

    def _active_incident(self) -> Incident | None:
        incident = self._incident
        if incident is None:
            return None
        if incident.duration and self.clock() - self._incident_start >= incident.duration:
            self._incident = None
            return None
        return incident

    def incident_active(self) -> bool:
        with self._lock:
            return self._active_incident() is not None

    def _take_fault(self, operation: str, model_id: str) -> Fault | None:
        for fault in self._faults:
            if not fault.matches(operation, model_id):
                continue
            if fault.rate < 1.0 and self._rng.random() >= fault.rate:
                continue
            if fault.times:
                fault.times -= 1
                if fault.times == 0:
                    self._faults.remove(fault)
            return fault
        return None

    def plan(self, operation: str, model_id: str) -> Plan:
        with self._lock:
            delay = self._latency.sample()
            fault = self._take_fault(operation, model_id)
            incident = self._active_incident()
            if incident is not None:
                delay += incident.add_latency
                if fault is None and incident.throttle_rate > self._rng.random():
                    fault = Fault("throttling")
            low, high = self.behaviour.output_tokens, self.behaviour.output_tokens_max
            output = self._rng.randint(low, high) if high > low else low
            return Plan(delay, fault, output, self.behaviour, self._interval)

    def record(self, record: RequestRecord) -> None:
        with self._lock:
            self._log.append(record)
