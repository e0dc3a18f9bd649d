"""POST an event to the Events API and classify the answer.

202 -> delivered; 400 (and other 4xx but 408/429) -> refused, never retried; 429, 408, 5xx
and network errors -> retryable (429 honours `Retry-After`). The routing key travels only in
the body: errors are redacted in case a server echoes it.
"""

from __future__ import annotations

import aiohttp
import orjson

from routewatch.exporters.delivery.retry import DeliveryError, redact

_RETRYABLE_4XX = (408, 429)


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def _reason(body: bytes) -> str:
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body[:200].decode("utf-8", "replace")
    if not isinstance(parsed, dict):
        return str(parsed)[:200]
    message = str(parsed.get("message") or parsed.get("status") or "")
    errors = parsed.get("errors") or []
    if isinstance(errors, list) and errors:
        message += ": " + "; ".join(str(e) for e in errors)
    return message


class PagerDutyClient:
    def __init__(self, url: str, *, timeout: float = 10.0, secret: str = "") -> None:
        self.url = url
        self._timeout = aiohttp.ClientTimeout(total=timeout or None)
        self._secret = secret
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def send(self, body: bytes) -> str:
        """POST `body`; the dedup_key PagerDuty answered, or DeliveryError."""
        try:
            async with self._client().post(
                self.url, data=body, headers={"Content-Type": "application/json"}
            ) as response:
                status = response.status
                content = await response.read()
                retry_after = _retry_after(response.headers.get("Retry-After"))
        except (TimeoutError, aiohttp.ClientError, OSError) as err:
            message = redact(f"network error: {type(err).__name__}: {err}", self._secret)
            raise DeliveryError(message, retryable=True) from None
        if 200 <= status < 300:
            try:
                parsed = orjson.loads(content)
            except orjson.JSONDecodeError:
                parsed = {}
            return str(parsed.get("dedup_key", "")) if isinstance(parsed, dict) else ""
        reason = redact(_reason(content), self._secret)
        retryable = status >= 500 or status in _RETRYABLE_4XX
        raise DeliveryError(
            f"HTTP {status}: {reason}" if reason else f"HTTP {status}",
            retryable=retryable,
            retry_after=retry_after if retryable else None,
            status=status,
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
