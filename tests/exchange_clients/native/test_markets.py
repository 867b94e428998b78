"""The market cache shared by every native venue (exchange_clients/native/markets.py)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from core.errors import UnknownSymbol
from exchange_clients.native.markets import MarketCache
from exchange_clients.types import Market

BTC = Market(
    symbol="BTC",
    contract_id="BTCUSDT",
    tick_size=D("0.1"),
    step_size=D("0.001"),
    min_size=D("0.001"),
    min_notional=D(5),
    max_leverage=D(20),
)


async def test_markets_load_once_unless_a_ttl_makes_them_stale() -> None:
    loads: list[int] = []

    async def load() -> list[Market]:
        loads.append(1)
        return [BTC]

    cache = MarketCache("v", load, view=lambda m: m, key=lambda m: m.contract_id)
    assert not cache.loaded
    assert await cache.get("BTC") is BTC
    assert await cache.markets() == {"BTC": BTC}
    assert len(loads) == 1
    assert cache.by_key("BTCUSDT") is BTC
    assert cache.by_key("ETHUSDT") is None
    with pytest.raises(UnknownSymbol, match="ETH"):
        await cache.get("ETH")

    stale = MarketCache("v", load, view=lambda m: m, key=lambda m: m.contract_id, ttl=-1.0)
    await stale.current()
    await stale.current()
    assert len(loads) == 3
