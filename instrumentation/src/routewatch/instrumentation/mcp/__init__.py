"""MCP client tool calls (`mcp.ClientSession.call_tool`) as route attempts on path `mcp`."""
