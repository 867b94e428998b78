"""The REST side of one account: public reads and signed calls, answers checked here.

Only idempotent calls may be retried by the transport (``RestTransport`` retries 429 always,
5xx and timeouts only when told the call is idempotent); an order write that times out raises
``RequestTimeout`` and the caller resolves it by client order id.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from core.errors import AuthenticationFailed
from exchange_clients._template.signing import HmacSigner
from exchange_clients._template.wire import error_for
from exchange_clients.native.wire import now_ms
from networking.http import HttpRequest, RestTransport
from networking.json_codec import dumps

JSON = {"Content-Type": "application/json"}


class TemplateRest:
    def __init__(self, transport: RestTransport, signer: HmacSigner | None) -> None:
        self.transport = transport
        self.signer = signer

    async def public(self, path: str, params: dict[str, str] | None = None) -> Any:
        query = urlencode(params or {})
        request = HttpRequest("GET", f"{path}?{query}" if query else path)
        return self._result(request, await self.transport.send(request, idempotent=True))

    async def signed(self, method: str, path: str, params: dict[str, Any] | None = None) -> Any:
        """A signed call; GET is idempotent, writes are not (never retried blindly)."""
        signer = self.signer
        if signer is None:
            raise AuthenticationFailed("this call needs credentials", venue=self.transport.venue)
        body = dumps(params or {})

        def build() -> HttpRequest:
            return HttpRequest(method, path, body, {**JSON, **signer.headers(body, now_ms())})

        response = await self.transport.send(build, idempotent=method == "GET")
        return self._result(HttpRequest(method, path), response)

    def _result(self, request: HttpRequest, response: Any) -> Any:
        if response.status < 400:
            return response.json()
        try:
            payload: Any = response.json()
        except ValueError:
            payload = response.text
        raise error_for(response.status, payload, venue=self.transport.venue, label=request.label)
