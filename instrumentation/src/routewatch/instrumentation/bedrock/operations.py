"""The Bedrock operations routewatch traces, as data: which request to read, how the result
arrives, and which routing path a call is an attempt on."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from routewatch.instrumentation import semconv
from routewatch.instrumentation.bedrock.agent import AGENT
from routewatch.instrumentation.bedrock.completion import Completion
from routewatch.instrumentation.bedrock.converse import CONVERSE
from routewatch.instrumentation.bedrock.families import Handler, dig, read_invocation_metrics


class Result(Enum):
    MESSAGE = "message"  # the result dict is the response (Converse)
    BODY = "body"  # a JSON body to read from result["body"] (InvokeModel)
    EVENTS = "events"  # an event stream in result[stream_key]


def read_event(handler: Handler, event: Mapping[str, Any], completion: Completion) -> None:
    """A ConverseStream event is already parsed by botocore."""
    handler.read_chunk(event, completion)


def read_payload_part(handler: Handler, event: Mapping[str, Any], completion: Completion) -> None:
    """An InvokeModelWithResponseStream event carries a JSON chunk as bytes."""
    data = dig(event, "chunk", "bytes")
    if isinstance(data, bytes | bytearray | str):
        chunk = json.loads(data)
        if isinstance(chunk, Mapping):
            handler.read_chunk(chunk, completion)
            read_invocation_metrics(chunk, completion)


EventReader = Callable[[Handler, Mapping[str, Any], Completion], None]


@dataclass(frozen=True, slots=True)
class Operation:
    name: str
    route: str
    # The handler of the request and response; None: the model family's handler, reading
    # the JSON in params["body"].
    handler: Handler | None
    result: Result
    stream_key: str = ""
    read_event: EventReader = read_event


# service name -> operation name -> Operation
OPERATIONS: dict[str, dict[str, Operation]] = {
    "bedrock-runtime": {
        op.name: op
        for op in (
            Operation("Converse", semconv.ROUTE_DIRECT, CONVERSE, Result.MESSAGE),
            Operation("ConverseStream", semconv.ROUTE_DIRECT, CONVERSE, Result.EVENTS, "stream"),
            Operation("InvokeModel", semconv.ROUTE_DIRECT, None, Result.BODY),
            Operation(
                "InvokeModelWithResponseStream",
                semconv.ROUTE_DIRECT,
                None,
                Result.EVENTS,
                "body",
                read_payload_part,
            ),
        )
    },
    "bedrock-agent-runtime": {
        "InvokeAgent": Operation(
            "InvokeAgent", semconv.ROUTE_AGENT, AGENT, Result.EVENTS, "completion"
        ),
    },
}
