"""Signed and public REST calls to a Binance-style venue, with its error codes mapped.

Parameters go in the query string for GET/DELETE and in a form-encoded body for POST/PUT
(both allowed by Binance's "General Information on Endpoints"). Each attempt is rebuilt by
:class:`networking.http.RestTransport`, so timestamps, nonces and signatures are fresh.

A ``-1021`` (timestamp outside recvWindow) answer means the venue refused the request without
acting on it: the local clock offset is re-measured from ``GET time`` and the request is
sent once more; a second refusal raises :class:`ClockSkew`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from exchange_clients.binance_style.signing import Params, RequestSigner
from exchange_clients.binance_style.wire import TIMESTAMP_CODE, error_for, parse_error
from exchange_clients.native.rest import TimestampedRest
from networking.http import HttpRequest, RestTransport
from networking.rate_limit import TokenBucket

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class BinanceStyleRest(TimestampedRest[RequestSigner]):
    """The REST side of one account: public, signed and user-stream calls."""

    credentials = "credentials"

    def __init__(
        self,
        transport: RestTransport,
        signer: RequestSigner | None,
        *,
        time_path: str,
        orders_limiter: TokenBucket | None = None,
    ) -> None:
        super().__init__(transport, signer)
        self.time_path = time_path
        self.orders_limiter = orders_limiter

    async def public(self, path: str, params: Params = (), *, weight: float = 1.0) -> Any:
        query = urlencode(list(params))
        request = HttpRequest("GET", f"{path}?{query}" if query else path)
        response = await self.transport.send(request, weight=weight, idempotent=True)
        try:
            return self._result(request, response)
        except _TimestampRejected as rejected:
            raise rejected.error from None

    async def signed(
        self,
        method: str,
        path: str,
        params: Params = (),
        *,
        weight: float = 1.0,
        idempotent: bool | None = None,
        order: bool = False,
    ) -> Any:
        """A TRADE/USER_DATA call; ``order`` also spends the venue's order-rate budget."""
        signer = self._require_signer()
        if order and self.orders_limiter is not None:
            await self.orders_limiter.acquire(1)
        is_idempotent = method == "GET" if idempotent is None else idempotent
        for attempt in range(2):
            try:
                return await self._send(
                    method, path, lambda: signer.sign(params, self.now_ms()), weight, is_idempotent
                )
            except _TimestampRejected as rejected:
                if attempt == 1:
                    raise rejected.error from None
                await self.sync_time()
        raise AssertionError("unreachable")

    async def user_stream(self, method: str, path: str, params: Params = ()) -> Any:
        signer = self._require_signer()
        try:
            return await self._send(
                method, path, lambda: signer.sign_stream(params, self.now_ms()), 1.0, True
            )
        except _TimestampRejected as rejected:
            raise rejected.error from None

    async def _server_time_ms(self) -> int:
        return int((await self.public(self.time_path))["serverTime"])

    async def _send(
        self,
        method: str,
        path: str,
        encode: Any,
        weight: float,
        idempotent: bool,
    ) -> Any:
        def build() -> HttpRequest:
            encoded, headers = encode()
            if method in ("GET", "DELETE"):
                return HttpRequest(method, f"{path}?{encoded}" if encoded else path, None, headers)
            return HttpRequest(method, path, encoded, {**headers, **FORM})

        response = await self.transport.send(build, weight=weight, idempotent=idempotent)
        return self._result(HttpRequest(method, path), response)

    def _refusal(self, request: HttpRequest, status: int, payload: Any) -> Exception:
        code, msg = parse_error(payload)
        if code == 0:
            msg = f"HTTP {status} {msg}"
        error = error_for(code, msg, venue=self.venue, label=request.label)
        return _TimestampRejected(error) if code == TIMESTAMP_CODE else error


class _TimestampRejected(Exception):
    def __init__(self, error: Exception) -> None:
        self.error = error


def params_of(mapping: Mapping[str, object]) -> Sequence[tuple[str, str]]:
    """A dict of parameters (``None`` values dropped) as ordered string pairs."""
    return [(key, str(value)) for key, value in mapping.items() if value is not None]
