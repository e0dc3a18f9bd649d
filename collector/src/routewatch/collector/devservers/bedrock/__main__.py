"""`python -m routewatch.collector.devservers.bedrock --port N`: serve until interrupted.

Prints `bedrock-runtime listening on http://HOST:PORT` once bound (port 0 = a free port), so a
parent process can read the URL from the first line of stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from routewatch.collector.devservers.bedrock.server import start
from routewatch.collector.devservers.bedrock.state import Behaviour, ServerState
from routewatch.collector.errors import ConfigError


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m routewatch.collector.devservers.bedrock",
        description="A local Bedrock-Runtime-compatible server with fault injection.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 = a free port (default)")
    parser.add_argument(
        "--latency", default="fixed:0", help="e.g. fixed:0.05, uniform:0.01:0.2, lognormal:0.1:0.5"
    )
    parser.add_argument("--chunk-interval", default="fixed:0", help="seconds between stream events")
    parser.add_argument("--output-tokens", type=int, default=48)
    parser.add_argument("--output-tokens-max", type=int, default=0)
    parser.add_argument("--cache-read-tokens", type=int, default=0)
    parser.add_argument("--cache-write-tokens", type=int, default=0)
    parser.add_argument("--seed", type=int, default=None)
    return parser.parse_args(argv)


async def _serve(state: ServerState, host: str, port: int) -> None:
    runner, url = await start(state, host, port)
    print(f"bedrock-runtime listening on {url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    try:
        behaviour = Behaviour(
            latency=args.latency,
            chunk_interval=args.chunk_interval,
            output_tokens=args.output_tokens,
            output_tokens_max=args.output_tokens_max,
            cache_read_tokens=args.cache_read_tokens,
            cache_write_tokens=args.cache_write_tokens,
            seed=args.seed,
        )
        state = ServerState(behaviour)
    except (ValueError, ConfigError) as err:
        print(f"bedrock devserver: {err}", file=sys.stderr)
        return 2
    asyncio.run(_serve(state, args.host, args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
