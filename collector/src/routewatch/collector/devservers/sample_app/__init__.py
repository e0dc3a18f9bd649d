"""The sample support-operations router (no OpenTelemetry import: instrument it from outside).

It follows the original system's routing table (`operations.py`), decision rule and fallback
(`router.py`), circuit breaker (`breaker.py`) and cache TTLs (`cache.py`); the direct path is
boto3 Converse (`direct.py`), the MCP path a stdio MCP client session (`mcp_path.py`).

Names to declare for zero-code instrumentation (kept stable):

    OTEL_PYTHON_ROUTEWATCH_ROUTERS=routewatch.collector.devservers.sample_app.router:SupportRouter.handle(operation=request.operation_type)
    OTEL_PYTHON_ROUTEWATCH_CACHES=routewatch.collector.devservers.sample_app.cache:SupportCache.get

Run: `opentelemetry-instrument python -m routewatch.collector.devservers.sample_app
--requests 50 --bedrock-url http://127.0.0.1:PORT`.
"""

ROUTER = (
    "routewatch.collector.devservers.sample_app.router:SupportRouter.handle"
    "(operation=request.operation_type)"
)
CACHE = "routewatch.collector.devservers.sample_app.cache:SupportCache.get"

__all__ = ["CACHE", "ROUTER"]
