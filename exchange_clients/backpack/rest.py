"""Public and signed REST calls to Backpack, with its errors mapped to ours.

Query parameters for GET, a JSON body for POST/DELETE/PATCH (the shapes of the official client
and the docs' request samples); both are signed the same way (see :mod:`signing`). Every attempt
is rebuilt by :class:`networking.http.RestTransport`, so timestamps and signatures are fresh.

A request the venue refuses as expired (its timestamp outside the X-Window on arrival) was not
executed: the clock offset is re-measured from ``GET /api/v1/time`` and the request sent once
more; a second refusal raises :class:`RequestExpired` (an ``AuthenticationFailed``).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from exchange_clients.backpack.signing import Ed25519Signer, WireValue, wire_text
from exchange_clients.backpack.wire import RequestExpired, error_for, parse_error
from exchange_clients.native.rest import TimestampedRest
from networking.http import HttpRequest
from networking.json_codec import dumps

JSON_CONTENT = {"Content-Type": "application/json; charset=utf-8"}
TIME_PATH = "/api/v1/time"
Params = Mapping[str, WireValue]


def _body_value(value: WireValue) -> str | int | bool:
    return wire_text(value) if isinstance(value, Decimal) else value


class BackpackRest(TimestampedRest[Ed25519Signer]):
    """The REST side of one account."""

    credentials = "api_key/api_secret"

    async def public(self, path: str, params: Params | None = None, *, weight: float = 1) -> Any:
        query = urlencode([(k, wire_text(v)) for k, v in (params or {}).items()])
        request = HttpRequest("GET", f"{path}?{query}" if query else path)
        response = await self.transport.send(request, weight=weight, idempotent=True)
        return self._result(request, response)

    async def signed(
        self,
        method: str,
        path: str,
        instruction: str,
        params: Params | None = None,
        *,
        idempotent: bool | None = None,
        weight: float = 1,
    ) -> Any:
        """A signed call; GET is idempotent unless told otherwise, writes are not."""
        signer = self._require_signer()
        values = dict(params or {})
        is_idempotent = method == "GET" if idempotent is None else idempotent

        def build() -> HttpRequest:
            headers = signer.headers(instruction, values, self.now_ms())
            if method == "GET":
                query = urlencode(sorted((k, wire_text(v)) for k, v in values.items()))
                return HttpRequest(method, f"{path}?{query}" if query else path, None, headers)
            body = dumps({k: _body_value(v) for k, v in values.items()})
            return HttpRequest(method, path, body, {**headers, **JSON_CONTENT})

        for attempt in range(2):
            response = await self.transport.send(build, weight=weight, idempotent=is_idempotent)
            try:
                return self._result(HttpRequest(method, path), response)
            except RequestExpired:
                if attempt == 1:
                    raise
                await self.sync_time()
        raise AssertionError("unreachable")

    async def _server_time_ms(self) -> int:
        return int(await self.public(TIME_PATH))

    def _refusal(self, request: HttpRequest, status: int, payload: Any) -> Exception:
        code, message = parse_error(payload, status)
        return error_for(status, code, message, venue=self.venue, label=request.label)
