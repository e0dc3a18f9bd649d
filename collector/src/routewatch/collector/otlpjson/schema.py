"""What OTLP/JSON changes from the proto3 JSON mapping, read off the message descriptors.

OTLP/JSON is proto3 JSON with three differences (OTLP specification, "JSON Protobuf
Encoding"): trace and span ids are hex strings, not base64; enums are integers; keys are
lowerCamelCase (receivers also accept the proto field names). Everything else follows from
the descriptors, so the encoder and decoder build one table per message type from them
instead of listing OTLP's fields by hand.
"""

from __future__ import annotations

from google.protobuf.descriptor import FieldDescriptor

# `bytes` fields with these names carry ids and are hex in OTLP/JSON (spans, links,
# exemplars, log records, profiles).
ID_FIELDS = frozenset({"trace_id", "span_id", "parent_span_id"})

INT64_TYPES = frozenset(
    {
        FieldDescriptor.TYPE_INT64,
        FieldDescriptor.TYPE_UINT64,
        FieldDescriptor.TYPE_FIXED64,
        FieldDescriptor.TYPE_SFIXED64,
        FieldDescriptor.TYPE_SINT64,
    }
)
INT32_TYPES = frozenset(
    {
        FieldDescriptor.TYPE_INT32,
        FieldDescriptor.TYPE_UINT32,
        FieldDescriptor.TYPE_FIXED32,
        FieldDescriptor.TYPE_SFIXED32,
        FieldDescriptor.TYPE_SINT32,
    }
)
FLOAT_TYPES = frozenset({FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT})


def is_id(field: FieldDescriptor) -> bool:
    return field.type == FieldDescriptor.TYPE_BYTES and field.name in ID_FIELDS
