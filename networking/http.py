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
* every attempt rebuilds the request (``build``), so timestamps, nonces and signatures are fresh;
* through an account's :class:`~networking.proxy_pool.ProxyPool` (passed as ``proxy_url``):
  every request goes through the pool's current proxy; a proxy that cannot be reached or
  refuses the tunnel never let the request reach the venue, so it is retried through the next
  proxy at once (orders too); a connection lost mid-request through it is reported to the pool
  (which fails over if the proxy fails its health check) and, as above, raises
  ``RequestTimeout`` for a non-idempotent request - never sent again; HTTP 403/451 through a
  proxy is a venue ban of its address: the proxy is burned and the request (refused, so not
  processed) is sent once more through the next proxy.

Error messages name the venue, method and path, never the query string or body (they may
carry signatures or account data).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp_socks import ProxyConnectionError, ProxyError, ProxyTimeoutError

from core.errors import RateLimited, RequestTimeout, VenueUnavailable
from core.proxy_check import proxy_connector_for
from core.redaction import Secret, scrub
from networking.backoff import Backoff
from networking.json_codec import loads
from networking.proxy_pool import PooledProxy, ProxyPool
from networking.rate_limit import TokenBucket

THROTTLED = frozenset({429, 418})
BANNED = frozenset({403, 451})
"""Through a proxy: the venue refuses the proxy's address (WAF ban, restricted location)."""
PROXY_UNREACHABLE = (ProxyConnectionError, ProxyTimeoutError)
"""The proxy itself cannot be reached: nothing left this host, nothing reached the venue."""


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
    """A SOCKS/HTTP proxy connector for ``proxy_url`` (aiohttp-socks), or ``None``.

    For a :class:`ProxyPool` that is its current proxy.
    """
    if proxy_url is None:
        return None
    return proxy_connector_for(proxy_url)


def proxy_failure_reason(exc: BaseException) -> str:
    """What went wrong with a proxy, safe to log (aiohttp-socks names host:port, no login)."""
    return scrub(f"{type(exc).__name__}: {exc}")[:160]


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
        self.pool = proxy_url if isinstance(proxy_url, ProxyPool) else None
        self._proxy_url = proxy_url
        self._session: aiohttp.ClientSession | None = None
        self._session_proxy: PooledProxy | None = None
        # Sessions of proxies failed over from, closed once their last request is done: a
        # request still in flight on one must end by its own outcome, not by our closing it.
        self._in_flight: dict[aiohttp.ClientSession, int] = {}
        self._retired: set[aiohttp.ClientSession] = set()
        self._opened_pool = False

    async def open(self) -> None:
        if self.pool is not None and not self._opened_pool:
            await self.pool.ensure_checked()  # health check before first use
            self.pool.acquire()
            self._opened_pool = True
        if self._session is None or self._session.closed:
            self._session = self._new_session()

    def _new_session(self) -> aiohttp.ClientSession:
        self._session_proxy = self.pool.current if self.pool is not None else None
        route = self._session_proxy.url if self._session_proxy is not None else self._proxy_url
        return aiohttp.ClientSession(
            connector=proxy_connector(route), timeout=aiohttp.ClientTimeout(total=self.timeout)
        )

    async def close(self) -> None:
        for session in [*self._retired, *([self._session] if self._session else [])]:
            await session.close()
        self._retired.clear()
        self._in_flight.clear()
        self._session = None
        if self.pool is not None and self._opened_pool:
            self._opened_pool = False
            await self.pool.release()

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            raise VenueUnavailable("not connected (call connect() first)", venue=self.venue)
        return self._session

    async def _route(self) -> tuple[aiohttp.ClientSession, PooledProxy | None]:
        """The session to send on: after a failover, a new one through the new proxy."""
        session = self.session
        if self.pool is not None and self.pool.current is not self._session_proxy:
            if self._in_flight.get(session, 0) == 0:
                self._in_flight.pop(session, None)
                await session.close()
            else:
                self._retired.add(session)
            session = self._session = self._new_session()
        return session, self._session_proxy

    async def send(
        self,
        build: Callable[[], HttpRequest] | HttpRequest,
        *,
        weight: float = 1.0,
        idempotent: bool,
    ) -> HttpResponse:
        """Send, retrying what is safe to retry; see the module docstring for the rules."""
        attempt = 0
        banned_once = False
        while True:
            request = build() if callable(build) else build
            if self.limiter is not None:
                await self.limiter.acquire(weight)
            session, proxy = await self._route()
            failed_over = False
            try:
                response = await self._once(session, request)
            except PROXY_UNREACHABLE as exc:  # never reached the venue
                failure: Exception = VenueUnavailable(
                    f"{request.label}: cannot reach the proxy ({proxy_failure_reason(exc)})",
                    venue=self.venue,
                )
                retryable = True
                failed_over = await self._proxy_failed(proxy, exc, verify=False)
            except ProxyError as exc:  # the proxy refused the tunnel: never reached the venue
                failure = VenueUnavailable(
                    f"{request.label}: the proxy refused ({proxy_failure_reason(exc)})",
                    venue=self.venue,
                )
                retryable = True
                failed_over = await self._proxy_failed(proxy, exc, verify=True)
            except aiohttp.ClientConnectorError as exc:  # never reached the venue
                failure = VenueUnavailable(
                    f"{request.label}: cannot connect ({exc.os_error or exc})", venue=self.venue
                )
                retryable = True
            except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
                failure = RequestTimeout(
                    f"{request.label}: no answer within {self.timeout:g} s", venue=self.venue
                )
                retryable = idempotent
                failed_over = await self._proxy_failed(proxy, exc, verify=True)
            except (aiohttp.ClientError, OSError) as exc:  # dropped mid-request: outcome unknown
                failure = RequestTimeout(
                    f"{request.label}: connection lost ({type(exc).__name__})", venue=self.venue
                )
                retryable = idempotent
                failed_over = await self._proxy_failed(proxy, exc, verify=True)
            else:
                if (
                    response.status in BANNED
                    and self.pool is not None
                    and proxy is not None
                    and not banned_once
                ):
                    # Refused by the venue, so not processed: safe to send once more through
                    # the next proxy. Only once per request: a second 403 is the venue's answer.
                    banned_once = True
                    if await self.pool.report_ban(proxy, f"HTTP {response.status}"):
                        continue
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
            if not failed_over:  # through a fresh proxy the next attempt goes at once
                await asyncio.sleep(self.backoff.delay(attempt))
            attempt += 1

    async def _proxy_failed(
        self, proxy: PooledProxy | None, exc: BaseException, *, verify: bool
    ) -> bool:
        """Tell the pool; True when traffic moved to another proxy."""
        if self.pool is None or proxy is None:
            return False
        return await self.pool.report_connection_failure(
            proxy, proxy_failure_reason(exc), verify=verify
        )

    async def _once(self, session: aiohttp.ClientSession, request: HttpRequest) -> HttpResponse:
        self._in_flight[session] = self._in_flight.get(session, 0) + 1
        try:
            async with session.request(
                request.method,
                self.base_url + request.path,
                data=request.body,
                headers=dict(request.headers),
            ) as raw:
                text = await raw.text()
                return HttpResponse(raw.status, dict(raw.headers), text)
        finally:
            left = self._in_flight[session] = self._in_flight.get(session, 1) - 1
            if left <= 0 and session in self._retired:
                self._retired.discard(session)
                self._in_flight.pop(session, None)
                await session.close()
