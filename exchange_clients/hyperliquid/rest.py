"""Hyperliquid's two REST endpoints: ``POST /info`` (reads) and ``POST /exchange`` (signed actions).

Sources (Hyperliquid API docs): info-endpoint, exchange-endpoint (body ``{action, nonce,
signature, vaultAddress?}``), nonces-and-api-wallets (a nonce is a millisecond timestamp, unique
per signer) and rate-limits: info requests weigh 2 (``l2Book``, ``orderStatus``,
``clearinghouseState`` ...) or 20 (the others); an exchange action weighs
``1 + floor(batch length / 40)``. An action the venue refuses becomes our error type here, so
the client only sees answers that were accepted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from core.errors import AuthenticationFailed, ExchangeError
from exchange_clients.hyperliquid.signing import L1Signer
from exchange_clients.hyperliquid.wire import ERR_UNKNOWN_SIGNER, VENUE, order_error
from networking.http import HttpRequest, RestTransport
from networking.json_codec import dumps

JSON_HEADERS = {"Content-Type": "application/json"}
LIGHT, HEAVY = 2.0, 20.0
BATCH_PER_WEIGHT = 40
ORDER_ACTIONS = ("order", "cancel", "cancelByCloid")


class NonceSource:
    """Millisecond timestamps, strictly increasing within the process (one signer per client)."""

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> int:
        self._last = max(time.time_ns() // 1_000_000, self._last + 1)
        return self._last


def statuses(data: Any) -> list[Any]:
    """The per-order statuses of an accepted ``order``/``cancel`` action."""
    return list(data["response"]["data"]["statuses"])


class HyperliquidRest:
    """The REST side of one account (or vault)."""

    def __init__(
        self,
        transport: RestTransport,
        signer: L1Signer,
        *,
        mainnet: bool,
        vault_address: str | None,
        user: Callable[[], str],
    ) -> None:
        self.transport = transport
        self._signer = signer
        self._signer_address = signer.address.lower()
        self._mainnet = mainnet
        self._vault_address = vault_address
        self._user = user
        self._nonces = NonceSource()

    async def info(self, payload: dict[str, Any], *, weight: float = HEAVY) -> Any:
        request = HttpRequest("POST", "/info", dumps(payload), JSON_HEADERS)
        response = await self.transport.send(request, weight=weight, idempotent=True)
        if response.status != 200:
            raise ExchangeError(
                f"info {payload['type']}: HTTP {response.status} {response.text[:200]}",
                venue=VENUE,
            )
        return response.json()

    async def exchange(self, action: dict[str, Any], *, batch: int = 1) -> Any:
        """Sign and send one action; a top-level ``err`` becomes our error type."""

        def build() -> HttpRequest:
            nonce = self._nonces.next()
            signature = self._signer.sign(
                action,
                nonce=nonce,
                mainnet=self._mainnet,
                vault_address=self._vault_address,
            )
            body: dict[str, Any] = {"action": action, "nonce": nonce, "signature": signature}
            if self._vault_address is not None:
                body["vaultAddress"] = self._vault_address
            return HttpRequest("POST", "/exchange", dumps(body), JSON_HEADERS)

        response = await self.transport.send(
            build, weight=1 + batch // BATCH_PER_WEIGHT, idempotent=False
        )
        if response.status != 200:
            raise ExchangeError(
                f"{action['type']}: HTTP {response.status} {response.text[:200]}", venue=VENUE
            )
        data = response.json()
        if not isinstance(data, dict) or data.get("status") != "ok":
            message = str(data.get("response") if isinstance(data, dict) else data)
            if ERR_UNKNOWN_SIGNER in message and "API Wallet" in message:
                raise AuthenticationFailed(
                    f"{action['type']} refused: Hyperliquid does not know the signing wallet "
                    f"{self._signer_address} as {self._user()} or one of its API wallets "
                    f"(venue said: {message})",
                    venue=VENUE,
                )
            if action["type"] not in ORDER_ACTIONS:
                raise ExchangeError(f"{action['type']} refused: {message}", venue=VENUE)
            raise order_error(message, context=str(action["type"]))
        return data
