"""A fake Aster futures venue: the shared Binance-style fake plus Aster's v3 API-wallet auth.

Two path families, as Aster documents them:

* ``/fapi/v1`` (+ ``/fapi/v2`` positionRisk/balance): HMAC-SHA256, Binance's scheme;
* ``/fapi/v3``: every endpoint, TRADE/USER_DATA/USER_STREAM ones authenticated by ``user``,
  ``signer``, ``nonce`` and an EIP-712 ``signature`` ("Authentication signature payload",
  "Example of POST /fapi/v3/order"). The fake recovers the signing address from the signature
  over the exact parameter string received (``signature`` removed) and compares it with the
  ``signer`` parameter and the signer registered for ``user``. Nonces (microseconds) must be
  within 10 s of the server clock and unused among the user's last 100 ("V3 Nonce
  Mechanism"); the error codes for a stale or reused nonce are not documented: we answer
  ``-1021`` (outside the window) and ``-4225 Nonce Expired`` (reused; seen in the docs'
  noop example).

Fees: Aster Pro futures, maker 0.010 % / taker 0.035 % (an account's tier: ``set_fees``).
Stop orders stay on the order endpoint (``type=STOP_MARKET``, ``stopPrice``): Aster has no
Algo Service; and it documents no open-interest endpoint, so the fake has none either.
"""

from __future__ import annotations

from decimal import Decimal

from aiohttp import web

from exchange_clients.aster.signing import recover_signer
from testing.fakes.binance_style import (
    E_API_KEY,
    E_SIGNATURE,
    E_TIMESTAMP,
    ApiError,
    FakeAccount,
    FakeBinanceStyle,
)

V3 = {
    "time": "/fapi/v3/time",
    "exchange_info": "/fapi/v3/exchangeInfo",
    "depth": "/fapi/v3/depth",
    "premium_index": "/fapi/v3/premiumIndex",
    "funding_info": "/fapi/v3/fundingInfo",
    "order": "/fapi/v3/order",
    "open_orders": "/fapi/v3/openOrders",
    "all_open_orders": "/fapi/v3/allOpenOrders",
    "position_risk": "/fapi/v3/positionRisk",
    "balance": "/fapi/v3/balance",
    "leverage": "/fapi/v3/leverage",
    "leverage_bracket": "/fapi/v3/leverageBracket",
    "user_trades": "/fapi/v3/userTrades",
    "listen_key": "/fapi/v3/listenKey",
    "commission_rate": "/fapi/v3/commissionRate",
    "ticker_24hr": "/fapi/v3/ticker/24hr",
}
NONCE_WINDOW_US = 10_000_000
NONCES_KEPT = 100


class FakeAster(FakeBinanceStyle):
    maker_fee = Decimal("0.0001")
    taker_fee = Decimal("0.00035")

    def register_routes(self) -> None:
        super().register_routes()
        self.add_family(V3, signed="V3", stream="V3")

    def authenticate(
        self, security: str, request: web.Request, query: str, body: str, params: dict[str, str]
    ) -> FakeAccount | None:
        if security != "V3":
            return super().authenticate(security, request, query, body, params)
        user, signer = params.get("user", ""), params.get("signer", "")
        nonce, signature = params.get("nonce", ""), params.get("signature", "")
        if not (user and signer and nonce.isdigit() and signature):
            raise ApiError(
                (
                    -1102,
                    "Mandatory parameter 'user/signer/nonce/signature' was not sent, was "
                    "empty/null, or malformed.",
                )
            )
        total = query + body
        message = "&".join(p for p in total.split("&") if not p.startswith("signature="))
        try:
            recovered = recover_signer(message, signature)
        except Exception:
            raise ApiError(E_SIGNATURE) from None
        if recovered.lower() != signer.lower():
            raise ApiError(E_SIGNATURE)
        account = next(
            (
                a
                for a in self.accounts
                if a.user
                and a.signer
                and a.user.lower() == user.lower()
                and a.signer.lower() == signer.lower()
            ),
            None,
        )
        if account is None:
            raise ApiError(E_API_KEY, status=401)
        value = int(nonce)
        if abs(value - self.server_ms() * 1000) > NONCE_WINDOW_US:
            raise ApiError(E_TIMESTAMP)
        if value in account.nonces or (
            len(account.nonces) >= NONCES_KEPT and value < min(account.nonces)
        ):
            raise ApiError((-4225, "Nonce Expired"))
        account.nonces = [*account.nonces, value][-NONCES_KEPT:]
        return account
