"""Reading an HTTP request body under a size limit, compressed and after decompression.

The limit holds for the bytes on the wire and for what they inflate to: decompression is
capped at the limit, so a gzip bomb costs at most `limit` bytes of memory before it is
refused.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterable

# Content-Encoding -> zlib wbits (gzip container; zlib container for "deflate" as RFC 9110
# defines it, and as Go's confighttp reads it).
_WBITS = {"gzip": 31, "x-gzip": 31, "deflate": 15, "zlib": 15}


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"request body larger than max_request_body_size ({limit} bytes)")


class BadBody(Exception):
    """Unsupported Content-Encoding or a corrupt compressed stream."""


async def read_limited(chunks: AsyncIterable[bytes], limit: int) -> bytes:
    """Concatenate `chunks`, refusing more than `limit` bytes (BodyTooLarge)."""
    buf = bytearray()
    async for chunk in chunks:
        buf += chunk
        if len(buf) > limit:
            raise BodyTooLarge(limit)
    return bytes(buf)


def decompress(body: bytes, content_encoding: str, limit: int) -> bytes:
    """Undo `content_encoding` with the output capped at `limit` bytes."""
    encoding = content_encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    wbits = _WBITS.get(encoding)
    if wbits is None:
        raise BadBody(f"unsupported Content-Encoding {content_encoding!r}")
    out = bytearray()
    data = body
    # A gzip body may hold several members one after another (RFC 1952); read them all.
    while True:
        inflater = zlib.decompressobj(wbits)
        try:
            # max_length >= 1 here: 0 would mean "no limit" to zlib.
            out += inflater.decompress(data, limit + 1 - len(out))
        except zlib.error as err:
            raise BadBody(f"invalid {encoding} body: {err}") from None
        if len(out) > limit:
            raise BodyTooLarge(limit)
        if not inflater.eof:
            raise BadBody(f"invalid {encoding} body: truncated")
        data = inflater.unused_data
        if not data:
            return bytes(out)
