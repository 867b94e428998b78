"""Lighter's REST side: reads (``GET``, private ones with an auth token) and signed transactions.

Writes are signed transactions posted to ``/api/v1/sendTx`` (``sendTxBatch`` for several),
each with the API key's next nonce from :class:`~.nonces.NonceManager` (lock around "take
next", synced from ``nextNonce``; a transaction refused with "invalid nonce" was not accepted,
so it is re-signed with a fresh nonce and sent once more). A private read refused as
unauthenticated is retried once with a fresh token (it may have expired in flight). Answers
whose ``code`` is not 200 become our error types (:func:`~.wire.api_error`).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Awaitable, Callable
from typing import Any

from core.errors import (
    AuthenticationFailed,
    ExchangeError,
    RateLimited,
    RequestTimeout,
    VenueUnavailable,
)
from core.logging_setup import get_logger
from exchange_clients.lighter import wire
from exchange_clients.lighter.auth import AuthTokens
from exchange_clients.lighter.nonces import NonceManager
from exchange_clients.lighter.signing import SignedTx
from exchange_clients.lighter.wire import VENUE
from networking.http import HttpRequest, HttpResponse, RestTransport
from networking.json_codec import dumps

log = get_logger(__name__)

FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}

Signer = Callable[[int], Awaitable[SignedTx]]
"""Signs one transaction with the nonce it is given."""


def _json(response: HttpResponse, label: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise ExchangeError(
            f"{label}: HTTP {response.status} not JSON: {response.text[:200]}", venue=VENUE
        ) from None


def ok(data: Any) -> bool:
    return isinstance(data, dict) and int(data.get("code", wire.CODE_OK)) == wire.CODE_OK


def wire_json(values: list[Any]) -> str:
    """``sendTxBatch`` takes its lists as JSON text inside the form."""
    return dumps(values)


class LighterRest:
    """The REST side of one API key of one account."""

    def __init__(
        self,
        transport: RestTransport,
        auth: AuthTokens,
        *,
        account_index: int,
        api_key_index: int,
    ) -> None:
        self.transport = transport
        self.auth = auth
        self.account_index = account_index
        self.api_key_index = api_key_index
        self.nonces = NonceManager(account_index, api_key_index, self.next_nonce)
        self._log = log.bind(venue=VENUE, account=account_index, api_key=api_key_index)

    async def get(
        self, path: str, params: dict[str, Any], *, private: bool = False, weight: float = 1.0
    ) -> Any:
        query = urllib.parse.urlencode(params)
        for attempt in (0, 1):
            headers = {"Authorization": await self.auth.token()} if private else {}
            request = HttpRequest("GET", f"{path}?{query}" if query else path, None, headers)
            response = await self.transport.send(request, weight=weight, idempotent=True)
            data = _json(response, path)
            if response.status == 200 and ok(data):
                return data
            error = wire.api_error(data, context=f"GET {path}")
            if private and isinstance(error, AuthenticationFailed) and attempt == 0:
                self.auth.invalidate()  # maybe expired in flight: one fresh token, then give up
                continue
            raise error
        raise AssertionError("unreachable")

    async def next_nonce(self) -> int:
        data = await self.get(
            "/api/v1/nextNonce",
            {"account_index": self.account_index, "api_key_index": self.api_key_index},
        )
        return int(data["nonce"])

    async def send_tx(self, sign: Signer, *, context: str) -> tuple[dict[str, Any], SignedTx]:
        """Sign with the key's next nonce and post; one re-sign after a nonce error."""
        async with self.nonces.hold() as lease:
            for attempt in (0, 1):
                (nonce,) = lease.take()
                signed = await sign(nonce)
                body = urllib.parse.urlencode(
                    {"tx_type": signed.tx_type, "tx_info": signed.tx_info}
                )
                data = await self._post(lease, "/api/v1/sendTx", body)
                if ok(data):
                    return data, signed
                lease.give_back()  # refused: the venue did not consume the nonce
                if int(data.get("code", 0)) in wire.NONCE_ERRORS and attempt == 0:
                    self._log.warning("lighter_nonce_resync", context=context, nonce=nonce)
                    await lease.resync()
                    continue
                raise wire.api_error(data, context=context)
        raise AssertionError("unreachable")

    async def send_batch(self, signers: list[Signer], *, context: str) -> dict[str, Any]:
        """Several transactions in one ``sendTxBatch`` (consecutive nonces, all or nothing)."""
        async with self.nonces.hold() as lease:
            for attempt in (0, 1):
                nonces = lease.take(len(signers))
                signed = [await sign(nonce) for sign, nonce in zip(signers, nonces, strict=True)]
                body = urllib.parse.urlencode(
                    {
                        "tx_types": wire_json([s.tx_type for s in signed]),
                        "tx_infos": wire_json([s.tx_info for s in signed]),
                    }
                )
                data = await self._post(lease, "/api/v1/sendTxBatch", body)
                if ok(data):
                    answer: dict[str, Any] = data
                    return answer
                lease.give_back()
                if int(data.get("code", 0)) in wire.NONCE_ERRORS and attempt == 0:
                    await lease.resync()
                    continue
                raise wire.api_error(data, context=context)
        raise AssertionError("unreachable")

    async def _post(self, lease: Any, path: str, body: str) -> Any:
        request = HttpRequest("POST", path, body, FORM_HEADERS)
        try:
            response = await self.transport.send(request, idempotent=False)
        except RequestTimeout:
            raise  # outcome unknown: the nonce stays used (a later nonce error resyncs)
        except (RateLimited, VenueUnavailable):
            lease.give_back()  # never processed
            raise
        return _json(response, path)
