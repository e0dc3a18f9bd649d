"""Bearer-token check shared by the gRPC and HTTP servers."""

from __future__ import annotations

import hmac


def authorized(expected_token: str, header: str | None) -> bool:
    """Whether an `Authorization` header value carries the expected bearer token."""
    if not expected_token:
        return True
    if not header:
        return False
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return False
    # Constant time, so that the token cannot be guessed byte by byte from response times.
    return hmac.compare_digest(token.strip().encode(), expected_token.encode())
