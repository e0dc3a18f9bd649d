"""Event streams (ConverseStream, InvokeModelWithResponseStream) that end their call's span.

The wrapper proxies botocore's EventStream (or aiobotocore's AioEventStream) and reports to
its ModelCall: each event before the app sees it (time to first chunk, tokens), then exactly
one ending, whichever comes first:

- read to the end                       -> succeed
- broke mid-way (an exception event, a dropped connection) -> fail with its error type
- the app closed it, stopped iterating, or dropped it and it was garbage collected
                                        -> stream_stopped (what arrived is recorded)
"""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator, Iterator
from typing import Any

import wrapt

from routewatch.instrumentation.bedrock.call import ModelCall


def _watch_for_collection(proxy: object, call: ModelCall) -> None:
    finalizer = weakref.finalize(proxy, call.stream_stopped)
    # At interpreter exit the SDK may already be shut down: leave those spans unended.
    finalizer.atexit = False


class _TracedStream(wrapt.ObjectProxy):
    """What the sync and async stream wrappers share: the call, collection, close."""

    def __init__(self, stream: Any, call: ModelCall) -> None:
        super().__init__(stream)
        self._self_call = call
        _watch_for_collection(self, call)

    def close(self) -> None:
        try:
            self.__wrapped__.close()
        finally:
            self._self_call.stream_stopped()


class TracedEventStream(_TracedStream):
    """A botocore EventStream whose iteration and close are reported to a ModelCall."""

    def __iter__(self) -> Iterator[Any]:
        call = self._self_call
        try:
            for event in self.__wrapped__:
                call.on_event(event)
                yield event
        except GeneratorExit:  # the app stopped iterating
            call.stream_stopped()
            raise
        except BaseException as err:
            call.fail(err)
            raise
        call.succeed()


class TracedAsyncEventStream(_TracedStream):
    """An aiobotocore AioEventStream whose iteration and close are reported to a ModelCall."""

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._self_events()

    async def _self_events(self) -> AsyncIterator[Any]:
        call = self._self_call
        try:
            async for event in self.__wrapped__:
                call.on_event(event)
                yield event
        except GeneratorExit:
            call.stream_stopped()
            raise
        except BaseException as err:
            call.fail(err)
            raise
        call.succeed()
