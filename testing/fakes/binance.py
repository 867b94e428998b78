"""A fake Binance USD-M futures venue: the shared Binance-style fake with Binance's fees.

Fees: the VIP 0 USDⓈ-M schedule, maker 0.0200 % / taker 0.0500 % (an account's tier:
``set_fees``). Paths ``/fapi/v1`` (and ``/fapi/v2`` for positionRisk and balance), HMAC-SHA256
signatures. Conditional orders only through the Algo Service (since 2025-12-09), and the
per-symbol ``openInterest``. Usage::

    async with FakeBinance() as fake:
        fake.add_account(api_key="k", api_secret="s")
        ... ClientSettings(venue="binance", options={"base_url": fake.base_url,
                                                      "ws_url": fake.ws_url}) ...
"""

from __future__ import annotations

from decimal import Decimal

from testing.fakes.binance_style import FakeBinanceStyle


class FakeBinance(FakeBinanceStyle):
    maker_fee = Decimal("0.0002")
    taker_fee = Decimal("0.0005")
    algo_service = True

    def register_routes(self) -> None:
        super().register_routes()
        self.add_algo_service()
