"""Libraries this instrumentation can patch; all optional (checked per extension)."""

_instruments: tuple[str, ...] = ()
