"""REST requests to a venue: rate limit, timeout, retries with backoff, errors mapped to our types.

What a venue's answer *means* (an auth failure, a rejected order) is the client's business:
:meth:`RestTransport.send` returns every answer below 500 other than 429/418 as it came. What
it handles, once, for every venue:

* the rate limit: each request spends its weight in a :class:`TokenBucket` first;
* 429/418 (throttled/banned): the bucket pauses for Retry-After and the request is retried
  (the venue did not process it, so this is safe even for orders); exhausted -> ``RateLimited``;
* a request that never reached the venue (connection refused, DNS) is retried;
* a timeout, a connection dropped mid-request or a 5xx leaves the outcome unknown: an
  idempotent request is retried, anything else raises ``RequestTimeout`` so the caller
  resolves it by client order id, never by sending again;
* every attempt rebuilds the request (``build``), so timestamps, nonces and signatures are fresh.

Error messages name the venue, method and path, never the query string or body (they may
carry signatures or account data).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from core.errors import RateLimited, RequestTimeout, VenueUnavailable
from core.redaction import Secret
from networking.backoff import Backoff
from networking.json_codec import loads
from networking.rate_limit import TokenBucket

THROTTLED = frozenset({429, 418})


@dataclass(frozen=True)
class HttpRequest:
    """One request; ``path`` may carry an already-encoded (and signed) query string."""

    method: str
    path: str
    body: str | bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """``METHOD /path`` without the query: safe to put in a message."""
        return f"{self.method} {self.path.split('?', 1)[0]}"


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: Mapping[str, str]
    text: str

    def json(self) -> Any:
        """The body parsed with fractional numbers as ``Decimal``."""
        return loads(self.text) if self.text else None


def retry_after_seconds(headers: Mapping[str, str], default: float) -> float:
    """The Retry-After header in seconds (only the delta-seconds form; venues use it)."""
    value = headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else default
    except ValueError:
        return default


def proxy_connector(proxy_url: Secret | None) -> aiohttp.BaseConnector | None:
    """A SOCKS/HTTP proxy connector for ``proxy_url`` (aiohttp-socks), or ``None``."""
    if proxy_url is None:
        return None
    from aiohttp_socks import ProxyConnector

    return ProxyConnector.from_url(proxy_url.reveal())


class RestTransport:
    """One venue's REST endpoint for one account (one session, one rate-limit bucket)."""

    def __init__(
        self,
        venue: str,
        base_url: str,
        *,
        limiter: TokenBucket | None = None,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: Backoff | None = None,
        proxy_url: Secret | None = None,
    ) -> None:
        self.venue = venue
        self.base_url = base_url.rstrip("/")
        self.limiter = limiter
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff or Backoff(initial=0.2, maximum=5.0, floor=0.05)
        self._proxy_url = proxy_url
        self._session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=proxy_connector(self._proxy_url),
                timeout=aiohttp.ClientTimeout(total=self.timeout),
            )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            raise VenueUnavailable("not connected (call connect() first)", venue=self.venue)
        return self._session

    async def send(
        self,
        build: Callable[[], HttpRequest] | HttpRequest,
        *,
        weight: float = 1.0,
        idempotent: bool,
    ) -> HttpResponse:
        """Send, retrying what is safe to retry; see the module docstring for the rules."""
        attempt = 0
        while True:
            request = build() if callable(build) else build
            if self.limiter is not None:
                await self.limiter.acquire(weight)
            try:
                response = await self._once(request)
            except aiohttp.ClientConnectorError as exc:  # never reached the venue
                failure: Exception = VenueUnavailable(
                    f"{request.label}: cannot connect ({exc.os_error or exc})", venue=self.venue
                )
                retryable = True
            except (TimeoutError, aiohttp.ServerTimeoutError):
                failure = RequestTimeout(
                    f"{request.label}: no answer within {self.timeout:g} s", venue=self.venue
                )
                retryable = idempotent
            except (aiohttp.ClientError, OSError) as exc:  # dropped mid-request: outcome unknown
                failure = RequestTimeout(
                    f"{request.label}: connection lost ({type(exc).__name__})", venue=self.venue
                )
                retryable = idempotent
            else:
                if response.status in THROTTLED:
                    wait = retry_after_seconds(response.headers, self.backoff.cap(attempt))
                    if self.limiter is not None:
                        self.limiter.pause(wait)
                    failure = RateLimited(
                        f"{request.label}: throttled (HTTP {response.status}), "
                        f"retry after {wait:g} s",
                        retry_after=wait,
                        venue=self.venue,
                    )
                    if attempt < self.retries:
                        attempt += 1
                        await asyncio.sleep(wait if self.limiter is None else 0)
                        continue
                    raise failure
                if response.status >= 500:
                    message = f"{request.label}: HTTP {response.status} {response.text[:200]}"
                    failure = (
                        VenueUnavailable(message, venue=self.venue)
                        if idempotent
                        else RequestTimeout(f"{message} (outcome unknown)", venue=self.venue)
                    )
                    retryable = idempotent
                else:
                    return response
            if not retryable or attempt >= self.retries:
                raise failure
            await asyncio.sleep(self.backoff.delay(attempt))
            attempt += 1

    async def _once(self, request: HttpRequest) -> HttpResponse:
        async with self.session.request(
            request.method,
            self.base_url + request.path,
            data=request.body,
            headers=dict(request.headers),
        ) as raw:
            text = await raw.text()
            return HttpResponse(raw.status, dict(raw.headers), text)
