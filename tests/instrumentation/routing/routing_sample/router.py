"""Routers and caches of every shape the environment declarations must handle."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

Backend = Callable[["Request"], Any]
AsyncBackend = Callable[["Request"], Awaitable[Any]]


class Kind(enum.Enum):
    EMERGENCY = "emergency"
    STANDARD = "standard"


@dataclass
class Request:
    operation_type: str
    plan: tuple[str, ...] = ("direct",)
    context: dict[str, Any] = field(default_factory=dict)
    kind: Kind = Kind.STANDARD


class SupportCache:
    def __init__(self) -> None:
        self.entries: dict[str, Any] = {}

    def get(self, key: str) -> Any:
        return self.entries.get(key)

    async def aget(self, key: str) -> Any:
        return self.entries.get(key)


class Router:
    def __init__(self, backends: dict[str, Any], cache: SupportCache | None = None) -> None:
        self.backends = backends
        self.cache = cache

    def handle(self, request: Request) -> Any:
        if self.cache is not None and (hit := self.cache.get(request.operation_type)) is not None:
            return hit
        failure: Exception | None = None
        for path in request.plan:
            try:
                return self.backends[path](request)
            except Exception as err:  # falls back to the next path of the plan
                failure = err
        assert failure is not None
        raise failure

    def handle_or_apologise(self, request: Request) -> Any:
        try:
            return self.handle(request)
        except Exception:
            return "sorry"

    async def ahandle(self, request: Request) -> Any:
        if self.cache is not None and (hit := await self.cache.aget(request.operation_type)):
            return hit
        failure: Exception | None = None
        for path in request.plan:
            try:
                return await self.backends[path](request)
            except Exception as err:
                failure = err
        assert failure is not None
        raise failure

    @classmethod
    def classify(cls, request: Request, backend: Backend) -> Any:
        return backend(request)

    @staticmethod
    def triage(payload: dict[str, Any], backend: Backend) -> Any:
        return backend(payload)  # type: ignore[arg-type]


class SubRouter(Router):
    """Inherits `handle`; declaring `SubRouter.handle` must not change `Router.handle`."""


def route_payload(payload: dict[str, Any], backend: Backend) -> Any:
    return backend(payload)  # type: ignore[arg-type]


async def route_async(request: Request, backend: AsyncBackend) -> Any:
    return await backend(request)


def route_by_kind(request: Request, backend: Backend) -> Any:
    return backend(request)


def not_a_function_value() -> None:
    return None


CONSTANT = 42
