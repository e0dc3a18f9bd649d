"""Response bodies that replace InvokeModel's, after routewatch read them to count tokens."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from typing import Any

from botocore.response import StreamingBody


def sync_body(data: bytes) -> StreamingBody:
    """A botocore StreamingBody over bytes already read."""
    return StreamingBody(io.BytesIO(data), len(data))


class AsyncBody:
    """An aiobotocore-style async body over bytes already read (read, iter_chunks,
    iter_lines, async iteration, async with, close)."""

    _CHUNK_SIZE = 1024

    def __init__(self, data: bytes) -> None:
        self._buffer = io.BytesIO(data)
        self._content_length = len(data)

    @property
    def content_length(self) -> int:
        return self._content_length

    async def read(self, amt: int | None = None) -> bytes:
        return self._buffer.read(-1 if amt is None else amt)

    async def readinto(self, b: bytearray) -> int:
        return self._buffer.readinto(b)

    def readable(self) -> bool:
        return self._buffer.tell() < self._content_length

    def tell(self) -> int:
        return self._buffer.tell()

    async def iter_chunks(self, chunk_size: int = _CHUNK_SIZE) -> AsyncIterator[bytes]:
        while chunk := self._buffer.read(chunk_size):
            yield chunk

    async def iter_lines(
        self, chunk_size: int = _CHUNK_SIZE, keepends: bool = False
    ) -> AsyncIterator[bytes]:
        for line in self._buffer.read().splitlines(keepends):
            yield line

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self.iter_chunks()

    async def __aenter__(self) -> AsyncBody:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self._buffer.close()

    async def aclose(self) -> None:
        self.close()
