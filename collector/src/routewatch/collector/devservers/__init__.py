"""Local servers and a sample app that tests, benchmarks and `routewatch demo` share.

Shipped with the collector so that `routewatch demo` works from an installed wheel.

- `bedrock`: a Bedrock-Runtime-compatible HTTP server with fault injection
  (`bedrock_server()` in-thread, `python -m routewatch.collector.devservers.bedrock` as a process).
- `mcp_server`: the support tools as an MCP server over stdio.
- `sample_app`: the support-operations router (no OpenTelemetry import); its instrumentable
  names are `sample_app.ROUTER` and `sample_app.CACHE`.
- `otlp_receiver`: an in-process OTLP/gRPC receiver that records what it gets.
- `demo`: `routewatch demo`, `main(argv) -> int` (with `demo_config`, `demo_outputs`,
  `demo_view`, `demo_report`).
"""
