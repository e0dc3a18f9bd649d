"""Every attribute and metric name routewatch emits, in one place.

GenAI and MCP names are re-exported from opentelemetry-semantic-conventions (the private
`_incubating` modules are imported here and nowhere else). Names of routewatch's own live
under `hybrid_routing.` and carry a TODO until a semantic convention exists for them.
"""

from typing import Final

from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import (
    GEN_AI_AGENT_ID,
    GEN_AI_CONVERSATION_ID,
    GEN_AI_INPUT_MESSAGES,
    GEN_AI_OPERATION_NAME,
    GEN_AI_OUTPUT_MESSAGES,
    GEN_AI_PROVIDER_NAME,
    GEN_AI_REQUEST_MAX_TOKENS,
    GEN_AI_REQUEST_MODEL,
    GEN_AI_REQUEST_STOP_SEQUENCES,
    GEN_AI_REQUEST_TEMPERATURE,
    GEN_AI_REQUEST_TOP_K,
    GEN_AI_REQUEST_TOP_P,
    GEN_AI_RESPONSE_FINISH_REASONS,
    GEN_AI_RESPONSE_ID,
    GEN_AI_RESPONSE_MODEL,
    GEN_AI_SYSTEM,
    GEN_AI_SYSTEM_INSTRUCTIONS,
    GEN_AI_TOKEN_TYPE,
    GEN_AI_TOOL_NAME,
    GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
    GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
    GEN_AI_USAGE_INPUT_TOKENS,
    GEN_AI_USAGE_OUTPUT_TOKENS,
    GenAiOperationNameValues,
)
from opentelemetry.semconv._incubating.metrics.gen_ai_metrics import (
    GEN_AI_CLIENT_OPERATION_DURATION,
    GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK,
    GEN_AI_CLIENT_TOKEN_USAGE,
)
from opentelemetry.semconv.attributes.error_attributes import ERROR_TYPE
from opentelemetry.semconv.attributes.server_attributes import SERVER_ADDRESS, SERVER_PORT

__all__ = [
    "ERROR_TYPE",
    "GEN_AI_AGENT_ID",
    "GEN_AI_CLIENT_OPERATION_DURATION",
    "GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK",
    "GEN_AI_CLIENT_TOKEN_USAGE",
    "GEN_AI_CONVERSATION_ID",
    "GEN_AI_INPUT_MESSAGES",
    "GEN_AI_OPERATION_NAME",
    "GEN_AI_OUTPUT_MESSAGES",
    "GEN_AI_PROVIDER_NAME",
    "GEN_AI_REQUEST_MAX_TOKENS",
    "GEN_AI_REQUEST_MODEL",
    "GEN_AI_REQUEST_STOP_SEQUENCES",
    "GEN_AI_REQUEST_TEMPERATURE",
    "GEN_AI_REQUEST_TOP_K",
    "GEN_AI_REQUEST_TOP_P",
    "GEN_AI_RESPONSE_FINISH_REASONS",
    "GEN_AI_RESPONSE_ID",
    "GEN_AI_RESPONSE_MODEL",
    "GEN_AI_SYSTEM",
    "GEN_AI_SYSTEM_INSTRUCTIONS",
    "GEN_AI_TOKEN_TYPE",
    "GEN_AI_TOOL_NAME",
    "GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS",
    "GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS",
    "GEN_AI_USAGE_INPUT_TOKENS",
    "GEN_AI_USAGE_OUTPUT_TOKENS",
    "SERVER_ADDRESS",
    "SERVER_PORT",
]

PROVIDER_AWS_BEDROCK: Final = "aws.bedrock"
OPERATION_CHAT: Final = "chat"
OPERATION_TEXT_COMPLETION: Final = "text_completion"
OPERATION_INVOKE_AGENT: Final = "invoke_agent"
TOKEN_TYPE_INPUT: Final = "input"
TOKEN_TYPE_OUTPUT: Final = "output"

# Bucket boundaries the GenAI semantic conventions prescribe.
DURATION_BUCKETS: Final = (
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
)  # fmt: skip
TOKEN_BUCKETS: Final = (
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
)  # fmt: skip

# MCP semantic conventions.
# TODO: import from opentelemetry-semantic-conventions once the MCP names are released there.
MCP_METHOD_NAME: Final = "mcp.method.name"
MCP_SESSION_ID: Final = "mcp.session.id"
JSONRPC_REQUEST_ID: Final = "jsonrpc.request.id"
MCP_CLIENT_OPERATION_DURATION: Final = "mcp.client.operation.duration"
ERROR_TYPE_TOOL_ERROR: Final = "tool_error"
MCP_METHOD_TOOLS_CALL: Final = "tools/call"
# Bucket boundaries the MCP semantic conventions give for mcp.*.operation.duration.
MCP_DURATION_BUCKETS: Final = (
    0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300,
)  # fmt: skip
GEN_AI_OPERATION_EXECUTE_TOOL: Final = GenAiOperationNameValues.EXECUTE_TOOL.value

# Routing. TODO: update when semantic conventions exist for routing decisions.
HYBRID_ROUTING_REQUEST_DURATION: Final = "hybrid_routing.request.duration"
HYBRID_ROUTING_ATTEMPTS: Final = "hybrid_routing.attempts"
HYBRID_ROUTING_FALLBACKS: Final = "hybrid_routing.fallbacks"
HYBRID_ROUTING_CACHE_LOOKUPS: Final = "hybrid_routing.cache.lookups"
HYBRID_ROUTING_COST: Final = "hybrid_routing.cost"

HYBRID_ROUTING_OPERATION: Final = "hybrid_routing.operation"
HYBRID_ROUTING_ROUTE: Final = "hybrid_routing.route"
HYBRID_ROUTING_OUTCOME: Final = "hybrid_routing.outcome"
HYBRID_ROUTING_ATTEMPT: Final = "hybrid_routing.attempt"
HYBRID_ROUTING_REASON: Final = "hybrid_routing.reason"
HYBRID_ROUTING_CACHE_RESULT: Final = "hybrid_routing.cache.result"
HYBRID_ROUTING_FALLBACK_FROM: Final = "hybrid_routing.fallback.from"
HYBRID_ROUTING_FALLBACK_TO: Final = "hybrid_routing.fallback.to"
HYBRID_ROUTING_FALLBACK_EVENT: Final = "hybrid_routing.fallback"
HYBRID_ROUTING_CACHE_LOOKUP_EVENT: Final = "hybrid_routing.cache.lookup"
CACHE_RESULT_HIT: Final = "hit"
CACHE_RESULT_MISS: Final = "miss"

ROUTE_DIRECT: Final = "direct"
ROUTE_MCP: Final = "mcp"
ROUTE_AGENT: Final = "agent"
ROUTE_CACHE: Final = "cache"
ROUTE_FALLBACK: Final = "fallback"
ROUTE_OTHER: Final = "other"
OUTCOME_SUCCESS: Final = "success"
OUTCOME_ERROR: Final = "error"
OTHER_VALUE: Final = "_OTHER"

# Environment variables.
OTEL_PYTHON_ROUTEWATCH_ROUTERS: Final = "OTEL_PYTHON_ROUTEWATCH_ROUTERS"
OTEL_PYTHON_ROUTEWATCH_CACHES: Final = "OTEL_PYTHON_ROUTEWATCH_CACHES"
OTEL_PYTHON_ROUTEWATCH_PRICING: Final = "OTEL_PYTHON_ROUTEWATCH_PRICING"
OTEL_PYTHON_ROUTEWATCH_DISABLED_PATCHERS: Final = "OTEL_PYTHON_ROUTEWATCH_DISABLED_PATCHERS"
OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: Final = (
    "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
)
