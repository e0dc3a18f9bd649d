"""`routewatch` command line (placeholder until the collector lands)."""

import sys


def main(argv: list[str] | None = None) -> int:
    print("routewatch: collector not built yet", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
