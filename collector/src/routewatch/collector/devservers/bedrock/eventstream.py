"""AWS event-stream framing (`application/vnd.amazon.eventstream`), the encoding side.

botocore only parses this format; the local Bedrock server needs to write it. One message is

    prelude:  total length (uint32 BE) | headers length (uint32 BE) | CRC32 of those 8 bytes
    headers:  per header: name length (uint8) | name | type (uint8) | value
              (type 7 = string: length (uint16 BE) | utf-8 bytes)
    payload
    message CRC32 (uint32 BE) over everything before it
"""

from __future__ import annotations

import struct
import zlib

_STRING = 7
_PRELUDE = struct.Struct(">II")
_CRC = struct.Struct(">I")


def _headers(headers: dict[str, str]) -> bytes:
    out = bytearray()
    for name, value in headers.items():
        raw_name, raw_value = name.encode(), value.encode()
        out += struct.pack(">B", len(raw_name)) + raw_name
        out += struct.pack(">BH", _STRING, len(raw_value)) + raw_value
    return bytes(out)


def encode_message(headers: dict[str, str], payload: bytes) -> bytes:
    """One framed event-stream message with string headers."""
    raw_headers = _headers(headers)
    total = _PRELUDE.size + _CRC.size + len(raw_headers) + len(payload) + _CRC.size
    prelude = _PRELUDE.pack(total, len(raw_headers))
    head = prelude + _CRC.pack(zlib.crc32(prelude)) + raw_headers + payload
    return head + _CRC.pack(zlib.crc32(head))


def event(event_type: str, payload: bytes) -> bytes:
    """A normal event (`:message-type` event) carrying a JSON payload."""
    return encode_message(
        {
            ":event-type": event_type,
            ":content-type": "application/json",
            ":message-type": "event",
        },
        payload,
    )


def exception(exception_type: str, payload: bytes) -> bytes:
    """A modeled exception event (`:message-type` exception), e.g. `throttlingException`."""
    return encode_message(
        {
            ":exception-type": exception_type,
            ":content-type": "application/json",
            ":message-type": "exception",
        },
        payload,
    )
