"""Paradex's REST session: public reads, JWT-authenticated calls, onboarding, its errors mapped.

Private endpoints take ``Authorization: Bearer <JWT>``. The JWT comes from ``POST /v1/auth``
signed with the account's Stark key (``PARADEX-STARKNET-ACCOUNT``, ``-SIGNATURE``,
``PARADEX-TIMESTAMP``, ``PARADEX-SIGNATURE-EXPIRATION``) and lives 5 minutes ("Authentication":
"JWTs ... expire every 5 minutes ... refresh well before expiry"). :class:`ParadexRest` keeps
one, reads its ``exp`` claim and gets a new one ``jwt_renew_before`` seconds before it (120 s
by default, as Paradex recommends refreshing after 3 of the 5 minutes); a call refused with a
401 anyway (a token revoked, a clock jump) gets a fresh token and is sent once more. An account
the venue does not know yet (``NOT_ONBOARDED``) is onboarded (``POST /v1/onboarding``, signed
``Onboarding`` typed data, the Ethereum address in ``PARADEX-ETHEREUM-ACCOUNT``) and auth is
tried again, as the SDK's ``init_account`` does.

Timestamps (auth headers, order ``signature_timestamp``) are on the venue's clock: the offset is
measured from ``GET /v1/system/time`` on connect.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

from core.errors import AuthenticationFailed, ExchangeError, VenueUnavailable
from exchange_clients.paradex.signing import StarkSigner
from exchange_clients.paradex.wire import VENUE, error_for, parse_error
from networking.http import HttpRequest, HttpResponse, RestTransport
from networking.json_codec import dumps

JSON_CONTENT = {"Content-Type": "application/json"}
AUTH_SIGNATURE_SECONDS = 24 * 60 * 60
"""How long the signed auth request itself stays valid (the SDK's choice, 24 h)."""
DEFAULT_JWT_SECONDS = 300
"""Assumed lifetime of a token whose ``exp`` claim cannot be read (Paradex's 5 minutes)."""


def jwt_expiry(token: str) -> float | None:
    """The ``exp`` claim (epoch seconds) of a JWT, read without verifying it."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        return float(claims["exp"])
    except (ValueError, KeyError, TypeError):
        return None


def path_segment(value: str) -> str:
    return quote(value, safe="")


class ParadexRest:
    """One account's REST session and JWT."""

    def __init__(
        self,
        transport: RestTransport,
        *,
        renew_before: float = 120.0,
        clock: Any = time.time,
    ) -> None:
        self.transport = transport
        self.signer: StarkSigner | None = None
        self.l1_address: str | None = None
        self.renew_before = renew_before
        self.clock_offset_ms = 0
        self._clock = clock
        self._jwt: str | None = None
        self._jwt_expiry = 0.0
        self._lock = asyncio.Lock()
        self.tokens_issued = 0

    # --- clock -------------------------------------------------------------------------------

    def now_ms(self) -> int:
        return int(self._clock() * 1000) + self.clock_offset_ms

    async def sync_time(self) -> None:
        before = int(self._clock() * 1000)
        answer = await self.public("/v1/system/time")
        after = int(self._clock() * 1000)
        self.clock_offset_ms = int(answer["server_time"]) - (before + after) // 2

    # --- answers -----------------------------------------------------------------------------

    def _result(self, request: HttpRequest, response: HttpResponse) -> Any:
        if response.status < 400:
            if response.status == 204 or not response.text:
                return None
            try:
                return response.json()
            except ValueError:
                raise VenueUnavailable(
                    f"{request.label}: unreadable answer (HTTP {response.status})", venue=VENUE
                ) from None
        try:
            payload: Any = response.json()
        except ValueError:
            payload = response.text
        code, message = parse_error(payload, response.status)
        raise error_for(response.status, code, message, label=request.label)

    async def public(self, path: str, params: Mapping[str, object] | None = None) -> Any:
        query = urlencode({k: str(v) for k, v in (params or {}).items()})
        request = HttpRequest("GET", f"{path}?{query}" if query else path)
        return self._result(request, await self.transport.send(request, idempotent=True))

    # --- auth --------------------------------------------------------------------------------

    def require_signer(self) -> StarkSigner:
        if self.signer is None:
            raise AuthenticationFailed(
                "this call needs l1_private_key and the account has none configured", venue=VENUE
            )
        return self.signer

    def invalidate(self) -> None:
        """Forget the token: the next private call authenticates again."""
        self._jwt = None

    async def token(self) -> str:
        """A JWT valid for at least ``renew_before`` more seconds."""
        async with self._lock:
            if self._jwt is None or self._clock() >= self._jwt_expiry - self.renew_before:
                self._jwt = await self._authenticate()
                self._jwt_expiry = jwt_expiry(self._jwt) or self._clock() + DEFAULT_JWT_SECONDS
                self.tokens_issued += 1
            return self._jwt

    async def _authenticate(self) -> str:
        try:
            return await self._auth_once()
        except AuthenticationFailed as exc:
            if "NOT_ONBOARDED" not in str(exc):
                raise
        await self.onboard()
        return await self._auth_once()

    async def _auth_once(self) -> str:
        signer = self.require_signer()

        def build() -> HttpRequest:
            stamp = self.now_ms() // 1000
            expiry = stamp + AUTH_SIGNATURE_SECONDS
            headers = {
                "PARADEX-STARKNET-ACCOUNT": hex(signer.address),
                "PARADEX-STARKNET-SIGNATURE": signer.sign_auth(stamp, expiry),
                "PARADEX-TIMESTAMP": str(stamp),
                "PARADEX-SIGNATURE-EXPIRATION": str(expiry),
            }
            return HttpRequest("POST", "/v1/auth", None, headers)

        response = await self.transport.send(build, idempotent=True)
        answer = self._result(HttpRequest("POST", "/v1/auth"), response)
        token = answer.get("jwt_token") if isinstance(answer, Mapping) else None
        if not isinstance(token, str) or not token:
            raise AuthenticationFailed("POST /v1/auth: no jwt_token in the answer", venue=VENUE)
        return token

    async def onboard(self) -> None:
        """Register the account (``POST /v1/onboarding``); idempotent on the venue's side."""
        signer = self.require_signer()
        if self.l1_address is None:
            raise AuthenticationFailed("onboarding needs the Ethereum address", venue=VENUE)
        headers = {
            "PARADEX-ETHEREUM-ACCOUNT": self.l1_address,
            "PARADEX-STARKNET-ACCOUNT": hex(signer.address),
            "PARADEX-STARKNET-SIGNATURE": signer.sign_onboarding(),
            **JSON_CONTENT,
        }
        body = dumps({"public_key": hex(signer.public_key)})
        request = HttpRequest("POST", "/v1/onboarding", body, headers)
        self._result(request, await self.transport.send(request, idempotent=True))

    # --- private calls -----------------------------------------------------------------------

    async def private(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, object] | None = None,
        body: Mapping[str, Any] | None = None,
        idempotent: bool | None = None,
    ) -> Any:
        """A JWT-authenticated call; GET and DELETE are idempotent unless told otherwise."""
        query = urlencode({k: str(v) for k, v in (params or {}).items()})
        target = f"{path}?{query}" if query else path
        text = dumps(dict(body)) if body is not None else None
        is_idempotent = method in ("GET", "DELETE") if idempotent is None else idempotent
        for attempt in range(2):
            token = await self.token()
            headers = {"Authorization": f"Bearer {token}"}
            if text is not None:
                headers.update(JSON_CONTENT)
            request = HttpRequest(method, target, text, headers)
            response = await self.transport.send(request, idempotent=is_idempotent)
            try:
                return self._result(request, response)
            except AuthenticationFailed:
                if attempt == 1 or response.status != 401:
                    raise
                self.invalidate()
        raise ExchangeError("unreachable", venue=VENUE)
