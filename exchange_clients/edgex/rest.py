"""Public and HMAC-signed REST calls to EdgeX (V2), with its refusals mapped to ours.

GET parameters travel in the query, writes as a JSON body; both are signed as the SDK does (see
:mod:`.signing`). EdgeX answers HTTP 200 with ``code`` other than ``SUCCESS`` for most refusals,
so every answer's ``code`` is checked, not just its status. Every attempt is rebuilt by
:class:`networking.http.RestTransport`, so each carries a fresh timestamp and signature.

A request refused as expired (its timestamp off the venue's clock) was not executed: the clock
offset is re-measured (``getServerTime``) and the request sent once more.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from exchange_clients.edgex.signing import HmacSigner, query_text, wire_text
from exchange_clients.edgex.wire import SUCCESS, RequestExpired, error_for, parse_error
from exchange_clients.native.rest import TimestampedRest
from networking.http import HttpRequest, HttpResponse
from networking.json_codec import dumps

JSON_CONTENT = {"Content-Type": "application/json"}
SERVER_TIME = "/api/v2/public/meta/getServerTime"
Params = Mapping[str, Any]


def _query(params: Params) -> str:
    return urlencode(sorted((key, wire_text(value)) for key, value in params.items()))


class EdgexRest(TimestampedRest[HmacSigner]):
    """The REST side of one account."""

    credentials = "api_key/api_secret/api_passphrase"

    async def public(self, path: str, params: Params | None = None) -> Any:
        query = _query(params or {})
        request = HttpRequest("GET", f"{path}?{query}" if query else path)
        response = await self.transport.send(request, idempotent=True)
        return self._data(request, response)

    async def private(
        self,
        method: str,
        path: str,
        params: Params | None = None,
        *,
        idempotent: bool | None = None,
    ) -> Any:
        """A signed call; GET is idempotent unless told otherwise, writes are not."""
        signer = self._require_signer()
        values = dict(params or {})
        is_idempotent = method == "GET" if idempotent is None else idempotent

        def build() -> HttpRequest:
            if method == "GET":
                headers = signer.headers(method, path, query_text(values), self.now_ms())
                query = _query(values)
                return HttpRequest(method, f"{path}?{query}" if query else path, None, headers)
            headers = signer.headers(method, path, wire_text(values), self.now_ms())
            return HttpRequest(method, path, dumps(values), {**headers, **JSON_CONTENT})

        for attempt in range(2):
            response = await self.transport.send(build, idempotent=is_idempotent)
            try:
                return self._data(HttpRequest(method, path), response)
            except RequestExpired:
                if attempt == 1:
                    raise
                await self.sync_time()
        raise AssertionError("unreachable")

    def _data(self, request: HttpRequest, response: HttpResponse) -> Any:
        payload = self._result(request, response)
        if isinstance(payload, Mapping) and payload.get("code") == SUCCESS:
            return payload.get("data")
        raise self._refusal(request, response.status, payload)

    async def _server_time_ms(self) -> int:
        data = await self.public(SERVER_TIME)
        return int(str(data["timeMillis"]))

    def _refusal(self, request: HttpRequest, status: int, payload: Any) -> Exception:
        code, message = parse_error(payload, status)
        return error_for(status, code, message, venue=self.venue, label=request.label)
