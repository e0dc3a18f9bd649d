"""Drive the sample router with mixed traffic and print a short summary.

    opentelemetry-instrument python -m routewatch.collector.devservers.sample_app \
        --requests 50 --bedrock-url http://127.0.0.1:PORT
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import sys
import time
from collections import Counter
from typing import Any

from routewatch.collector.devservers import mcp_server
from routewatch.collector.devservers.sample_app.direct import DirectPath
from routewatch.collector.devservers.sample_app.mcp_path import McpPath
from routewatch.collector.devservers.sample_app.messages import RoutingFailed
from routewatch.collector.devservers.sample_app.router import SupportRouter
from routewatch.collector.devservers.sample_app.traffic import mixed_traffic


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m routewatch.collector.devservers.sample_app",
        description="The sample support-operations router, driven with mixed traffic.",
    )
    parser.add_argument("--bedrock-url", required=True, help="Bedrock Runtime endpoint URL")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--requests", type=int, default=50, help="requests to send (0 = no limit)")
    parser.add_argument("--duration", type=float, default=0.0, help="stop after this many seconds")
    parser.add_argument("--interval", type=float, default=0.0, help="pause between requests, s")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--operations",
        default="",
        help="comma-separated operation types to send (default: all, mixed)",
    )
    parser.add_argument("--mcp-latency", default="", help="latency spec of the MCP tools")
    parser.add_argument("--mcp-error", default="", help="MCP tools that fail: all or names")
    args = parser.parse_args(argv)
    if args.requests < 0 or args.duration < 0 or args.interval < 0:
        parser.error("--requests, --duration and --interval must not be negative")
    if not args.requests and not args.duration:
        parser.error("give --requests or --duration (or both)")
    args.operations = [o.strip() for o in args.operations.split(",") if o.strip()]
    try:
        next(mixed_traffic(0, args.operations))
    except ValueError as err:
        parser.error(f"--operations: {err}")
    args.mcp_env = _mcp_env(args)
    try:
        mcp_server.McpSettings.from_env(args.mcp_env)
    except ValueError as err:  # said here rather than by a server that exits at start
        parser.error(f"--mcp-latency/--mcp-error: {err}")
    return args


def _mcp_env(args: argparse.Namespace) -> dict[str, str]:
    env = {mcp_server.ENV_SEED: str(args.seed)}
    if args.mcp_latency:
        env[mcp_server.ENV_LATENCY] = args.mcp_latency
    if args.mcp_error:
        env[mcp_server.ENV_ERROR] = args.mcp_error
    return env


def _credentials() -> dict[str, Any]:
    # A local endpoint needs no real account; boto3 still signs, so give it something.
    if os.environ.get("AWS_ACCESS_KEY_ID") or os.environ.get("AWS_PROFILE"):
        return {}
    return {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


async def run(args: argparse.Namespace) -> Counter[str]:
    counts: Counter[str] = Counter()
    direct = DirectPath(args.bedrock_url, args.region, **_credentials())
    deadline = time.monotonic() + args.duration if args.duration else None
    limit = args.requests or None
    try:
        async with McpPath(env=args.mcp_env) as mcp:
            router = SupportRouter({"direct": direct, "mcp": mcp})
            for request in itertools.islice(mixed_traffic(args.seed, args.operations), limit):
                if deadline is not None and time.monotonic() >= deadline:
                    break
                counts["requests"] += 1
                counts[f"operation {request.operation_type}"] += 1
                try:
                    response = await router.handle(request)
                except RoutingFailed:
                    counts["failed"] += 1
                else:
                    counts[f"route {response.route}"] += 1
                    counts["fallbacks"] += response.fell_back
                    counts["cost_micro_usd"] += round(response.cost_usd * 1e6)
                if args.interval:
                    await asyncio.sleep(args.interval)
            counts["cache_hits"] = router.cache.hits
            counts["cache_lookups"] = router.cache.hits + router.cache.misses
    finally:
        direct.close()
    return counts


def summary(counts: Counter[str]) -> str:
    def section(prefix: str) -> str:
        items = sorted(
            (k.removeprefix(prefix), v) for k, v in counts.items() if k.startswith(prefix)
        )
        return ", ".join(f"{k} {v}" for k, v in items) or "none"

    lookups = counts["cache_lookups"]
    rate = f"{counts['cache_hits'] / lookups:.0%}" if lookups else "n/a"
    return "\n".join(
        [
            f"sample app: {counts['requests']} requests, {counts['failed']} failed, "
            f"{counts['fallbacks']} fell back",
            f"  by operation: {section('operation ')}",
            f"  by route:     {section('route ')}",
            f"  cache:        {counts['cache_hits']}/{lookups} hits ({rate})",
            f"  cost:         {counts['cost_micro_usd'] / 1e6:.6f} USD",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    counts = asyncio.run(run(args))
    print(summary(counts), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
