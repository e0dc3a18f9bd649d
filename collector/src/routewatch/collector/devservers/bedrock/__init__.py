"""A local Bedrock-Runtime-compatible server that real boto3/aiobotocore clients reach through
`endpoint_url`: Converse, ConverseStream, InvokeModel and InvokeModelWithResponseStream for
Anthropic Claude, Amazon Nova and Titan, Meta Llama, Mistral and Cohere, with configurable
latency and token counts and injected faults.

In a test::

    with bedrock_server(Behaviour(latency="fixed:0.01", seed=1)) as srv:
        client = srv.client()                      # boto3 bedrock-runtime at srv.url
        srv.inject("throttling", times=2)          # next two requests: 429 ThrottlingException
        srv.inject("stream_break", mode="cut")     # next stream: connection cut mid-way
        srv.incident(add_latency=2.0, duration=30) # every answer 2 s slower for 30 s

As a process: `python -m routewatch.collector.devservers.bedrock --port 0`, controlled over
HTTP with `BedrockControl(url)` (POST/DELETE /_control/faults, POST/DELETE /_control/incident,
PATCH /_control/behaviour, POST /_control/reset, GET /_control/stats, GET /_control/requests).
"""

from routewatch.collector.devservers.bedrock.control import BedrockControl, ControlError
from routewatch.collector.devservers.bedrock.faults import ERRORS, Fault, ServiceError
from routewatch.collector.devservers.bedrock.server import BedrockServer, bedrock_server
from routewatch.collector.devservers.bedrock.state import (
    Behaviour,
    Incident,
    RequestRecord,
    ServerState,
)

__all__ = [
    "ERRORS",
    "BedrockControl",
    "BedrockServer",
    "Behaviour",
    "ControlError",
    "Fault",
    "Incident",
    "RequestRecord",
    "ServerState",
    "ServiceError",
    "bedrock_server",
]
