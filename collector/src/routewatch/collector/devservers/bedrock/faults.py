"""Faults the local Bedrock server can inject, and Bedrock's error wire format.

Bedrock Runtime speaks restJson1: an error is an HTTP status, an `x-amzn-errortype` header
naming the modeled exception, and a JSON body `{"message": ...}`. botocore reads the code
from that header and raises `ClientError` with it. Inside an event stream the same errors
travel as exception messages whose `:exception-type` is the lower-camel member name of the
stream union (`throttlingException`, `modelStreamErrorException`, ...).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

# Status codes and messages as the service model (botocore's bedrock-runtime service-2.json)
# and the real service give them. ModelNotReadyException is 429 in the model, not 503.
ERRORS: dict[str, tuple[str, int, str]] = {
    "validation": (
        "ValidationException",
        400,
        "Malformed input request, please reformat your input and try again.",
    ),
    "throttling": (
        "ThrottlingException",
        429,
        "Too many requests, please wait before trying again.",
    ),
    "internal": (
        "InternalServerException",
        500,
        "The system encountered an unexpected error during processing. Try your request again.",
    ),
    "model_not_ready": (
        "ModelNotReadyException",
        429,
        "Model is not ready to serve inference requests. The model may be starting up.",
    ),
    "service_unavailable": (
        "ServiceUnavailableException",
        503,
        "Bedrock is unable to process your request.",
    ),
    "model_timeout": (
        "ModelTimeoutException",
        408,
        "Model has timed out in processing the request. Try your request again.",
    ),
    "model_error": ("ModelErrorException", 424, "The model returned an error."),
    "access_denied": (
        "AccessDeniedException",
        403,
        "You don't have access to the model with the specified model ID.",
    ),
    "quota_exceeded": (
        "ServiceQuotaExceededException",
        400,
        "Your request exceeds the service quota for your account.",
    ),
    "not_found": ("ResourceNotFoundException", 404, "The requested resource could not be found."),
}

# Exception members of the stream unions (ConverseStreamOutput, ResponseStream).
STREAM_EXCEPTIONS = (
    "internalServerException",
    "modelStreamErrorException",
    "validationException",
    "throttlingException",
    "serviceUnavailableException",
)

OPERATIONS = ("converse", "converse-stream", "invoke", "invoke-with-response-stream")
STREAMING = ("converse-stream", "invoke-with-response-stream")

FaultKind = Literal[
    "validation",
    "throttling",
    "internal",
    "model_not_ready",
    "service_unavailable",
    "model_timeout",
    "model_error",
    "access_denied",
    "quota_exceeded",
    "not_found",
    "stream_break",
]


@dataclass
class Fault:
    """One injected fault. An error kind answers with that error instead of a response;
    `stream_break` lets a streaming response start and breaks it after `after_chunks` content
    events, with an exception event (`mode="exception"`, type `stream_exception`) or by cutting
    the connection (`mode="cut"`)."""

    kind: FaultKind
    # How many matching requests it applies to; 0 = until cleared.
    times: int = 1
    # Applies only to this operation (one of OPERATIONS); empty = all.
    operation: str = ""
    # Applies only to model ids containing this text; empty = all.
    model: str = ""
    # Probability that a matching request is hit (seeded by the server's seed).
    rate: float = 1.0
    # Overrides the error's message / HTTP status (defaults from ERRORS).
    message: str = ""
    status: int = 0
    # stream_break only.
    mode: Literal["exception", "cut"] = "exception"
    after_chunks: int = 2
    stream_exception: str = "modelStreamErrorException"

    def validate(self) -> None:
        if self.kind != "stream_break" and self.kind not in ERRORS:
            kinds = ", ".join([*ERRORS, "stream_break"])
            raise ValueError(f"kind must be one of {kinds}, got {self.kind!r}")
        if self.times < 0:
            raise ValueError(f"times must be >= 0, got {self.times}")
        if self.operation and self.operation not in OPERATIONS:
            raise ValueError(
                f"operation must be one of {', '.join(OPERATIONS)}, got {self.operation!r}"
            )
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"rate must be within [0, 1], got {self.rate}")
        if self.status and not 400 <= self.status <= 599:
            raise ValueError(f"status must be an HTTP error status, got {self.status}")
        if self.after_chunks < 0:
            raise ValueError(f"after_chunks must be >= 0, got {self.after_chunks}")
        if self.stream_exception not in STREAM_EXCEPTIONS:
            raise ValueError(
                f"stream_exception must be one of {', '.join(STREAM_EXCEPTIONS)}, "
                f"got {self.stream_exception!r}"
            )

    def matches(self, operation: str, model_id: str) -> bool:
        if self.operation and self.operation != operation:
            return False
        if self.kind == "stream_break" and operation not in STREAMING:
            return False
        return not self.model or self.model in model_id

    def error(self) -> ServiceError:
        code, status, message = ERRORS[self.kind]
        return ServiceError(code, self.status or status, self.message or message)


@dataclass(frozen=True)
class ServiceError(Exception):
    """A modeled Bedrock error, raised inside the server and rendered in the wire format."""

    code: str
    status: int
    message: str

    @classmethod
    def of(cls, kind: str, message: str = "") -> ServiceError:
        code, status, default = ERRORS[kind]
        return cls(code, status, message or default)

    def headers(self, request_id: str) -> dict[str, str]:
        return {
            "x-amzn-errortype": f"{self.code}:http://internal.amazon.com/coral/com.amazon.bedrock/",
            "x-amzn-RequestId": request_id,
            "Content-Type": "application/json",
        }

    def body(self) -> bytes:
        return json.dumps({"message": self.message}).encode()

    def stream_type(self) -> str:
        """The exception member of the stream unions that carries this error."""
        member = self.code[0].lower() + self.code[1:]
        return member if member in STREAM_EXCEPTIONS else "internalServerException"
