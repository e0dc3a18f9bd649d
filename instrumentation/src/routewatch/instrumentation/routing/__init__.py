"""Routing layer: route spans around declared routers, attempts, fallbacks, cache lookups.

Declare routers and caches in the environment (no code change)::

    OTEL_PYTHON_ROUTEWATCH_ROUTERS="app.router:Router.handle(operation=request.operation_type)"
    OTEL_PYTHON_ROUTEWATCH_CACHES="app.cache:SupportCache.get"

Entries are separated by `;` or `,`. `(operation=...)` names an argument, then attributes or
mapping keys inside it; without it the function's name is the operation. Each router call is
a span `route {operation}`; each backend call inside it (Bedrock `direct`, MCP `mcp`, Bedrock
Agent `agent`) an `attempt {path}` span numbered from 1, recording a fallback when it follows
a failed attempt. A declared cache returning non-None is a hit; a route served by a hit with no
backend call has `hybrid_routing.route=cache`. `routewatch.instrumentation.api` offers the
same as a decorator for code that prefers it.
"""
