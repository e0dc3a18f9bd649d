"""Consumers that join components: fan-out to several, and routing by signal for receivers.

Both forward a request in the forms they are given (`forward(data, encoded)`, see
`component.deliver`): the bytes to consumers that take them, the message to the others, parsed
at most once and only if one of them needs it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

from routewatch.collector.component import (
    REQUEST_TYPES,
    Consumer,
    Data,
    Encoded,
    Forwarder,
    Signal,
    deliver,
    needs_message,
)
from routewatch.collector.errors import PartialSuccessError, PermanentError, RetryableError


def combine_errors(errors: Sequence[BaseException]) -> BaseException:
    """One error for a fan-out: retryable if any consumer can take the data later, else
    permanent, else a partial success (the most items any consumer rejected). A retryable
    result keeps the longest `retry_after` asked for."""
    if len(errors) == 1:
        return errors[0]
    final = (PermanentError, PartialSuccessError)
    retryable = [e for e in errors if not isinstance(e, final)]
    message = "; ".join(str(e) or type(e).__name__ for e in errors)
    if not retryable:
        partial = [e for e in errors if isinstance(e, PartialSuccessError)]
        if len(partial) == len(errors):
            return PartialSuccessError(max(e.rejected for e in partial), message)
        return PermanentError(message)
    delays = [e.retry_after for e in retryable if isinstance(e, RetryableError) and e.retry_after]
    return RetryableError(message, max(delays) if delays else None)


class Fanout(Forwarder):
    """Hands the same request to every consumer concurrently.

    A failing consumer does not keep the others from getting the data. Consumers of the message
    must treat it as read-only: they all see the same one.
    """

    def __init__(self, consumers: Sequence[Consumer]) -> None:
        self.consumers = list(consumers)
        self.needs_message = any(needs_message(c) for c in self.consumers)

    async def forward(self, data: Data | None, encoded: Encoded | None) -> None:
        if data is None and encoded is not None and self.needs_message:
            data = encoded.decode()  # once, shared by every consumer of the message
        results = await asyncio.gather(
            *(deliver(c, data, encoded) for c in self.consumers), return_exceptions=True
        )
        errors = [r for r in results if isinstance(r, BaseException)]
        for err in errors:
            if isinstance(err, asyncio.CancelledError):
                raise err
        if errors:
            raise combine_errors(errors)


def fanout(consumers: Sequence[Consumer]) -> Consumer:
    """The consumer itself when there is one, else a `Fanout`."""
    return consumers[0] if len(consumers) == 1 else Fanout(consumers)


class SignalRouter(Forwarder):
    """The next consumer handed to a receiver: one object for every signal it serves.

    A receiver used in traces and metrics pipelines is created once and gets this router; it
    sends each request here and the router passes it to that signal's pipelines. `signals`
    says which signals are wired (a receiver may refuse or not serve the others).
    """

    def __init__(self, consumers: Mapping[Signal, Consumer]) -> None:
        self._by_signal = dict(consumers)
        self._by_type = {REQUEST_TYPES[s]: c for s, c in consumers.items()}
        self.signals = frozenset(consumers)
        self.needs_message = any(needs_message(c) for c in consumers.values())

    def for_signal(self, signal: Signal) -> Consumer | None:
        return self._by_signal.get(signal)

    async def forward(self, data: Data | None, encoded: Encoded | None) -> None:
        consumer: Consumer | None
        if encoded is not None:
            consumer, what = self._by_signal.get(encoded.signal), encoded.signal.value
        else:
            assert data is not None
            consumer, what = self._by_type.get(type(data)), type(data).__name__
        if consumer is None:
            raise PermanentError(f"no pipeline takes {what} from this receiver")
        await deliver(consumer, data, encoded)
