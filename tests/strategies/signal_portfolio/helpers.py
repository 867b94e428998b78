"""The signal portfolio on the real paper venue (tests/strategies/rig.py), its signals' market
data from the fake Hyperliquid (funding, open interest, candles, trades).

Worked numbers (scripted paper BTC: bids 99.5 / 99.0 / 98.5, asks 100.0 / 100.5 / 101.0, step
0.01, min size 0.02; equity 10,000 USD): ``risk_pct 0.05`` puts 5 USD at risk; with
``stop_loss_pct 5`` at the mid 99.75 that is 5 / (99.75 x 0.05) = 1.0025 -> 1.00 BTC. A SHORT
sells 1.00 into the 99.5 bid: stop at 99.5 x 1.05 = 104.475, take-profit at 99.5 x 0.96 =
95.52.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from database.models import SignalRecord, SignalTrade
from strategies.signal_portfolio.strategy import SignalPortfolioStrategy
from testing.fakes.hyperliquid import FakeHyperliquid
from tests.strategies.rig import StrategyRig, strategy_rig
from trading_config.schema import BotConfig

D = Decimal
Sessions = async_sessionmaker[AsyncSession]
HOT_FUNDING = D("0.0018")  # 0.18 % per hour: funding_rate fades it SHORT, confidence 0.75


def config(
    fake: FakeHyperliquid,
    *,
    signals: dict[str, Any] | None = None,
    risk: dict[str, Any] | None = None,
    execution: dict[str, Any] | None = None,
    **over: Any,
) -> BotConfig:
    params: dict[str, Any] = {
        "exchange": "paper",
        "assets": ["BTC"],
        "signals": signals
        if signals is not None
        else {"funding_rate": {}, "rsi_mean_reversion": {}},
        "risk_pct": D("0.05"),
        "stop_loss_pct": D(5),
        "take_profit_pct": D(4),
        "evaluation_interval_seconds": D(1),
        "backfill_hours": 1,
        "funding_source": "venue",  # the service's own tests are in test_funding_source.py
        "market_data_url": fake.base_url,
        "market_data_ws_url": fake.ws_url,
    }
    params.update(over)
    return BotConfig.model_validate(
        {
            "name": "signals-test",
            "strategy": {"type": "signal_portfolio", "params": params},
            "exchanges": {"paper": {"market_data": {"source": "hyperliquid"}}},
            "risk": risk or {},
            "execution": execution or {"default_mode": "market"},
        }
    )


def portfolio(rig: StrategyRig) -> SignalPortfolioStrategy:
    assert isinstance(rig.strategy, SignalPortfolioStrategy)
    return rig.strategy


@asynccontextmanager
async def running(
    sessions: Sessions,
    fake: FakeHyperliquid,
    *,
    bot: tuple[int, dict[str, int]] | None = None,
    database_url: str | None = None,
    **options: Any,
) -> AsyncIterator[StrategyRig]:
    """The portfolio on the rig; ``bot`` and ``database_url`` to restart on saved state."""
    async with strategy_rig(
        sessions, config(fake, **options), bot=bot, database_url=database_url
    ) as rig:
        try:
            yield rig
        finally:
            await portfolio(rig).market.stop()


async def signals(sessions: Sessions) -> list[SignalRecord]:
    async with sessions() as session:
        return list(await session.scalars(select(SignalRecord).order_by(SignalRecord.id)))


async def trades(sessions: Sessions) -> list[SignalTrade]:
    async with sessions() as session:
        return list(await session.scalars(select(SignalTrade).order_by(SignalTrade.id)))


async def book(rig: StrategyRig, bid: str, ask: str) -> None:
    """A one-level BTC book at ``bid`` / ``ask`` (deep enough for every test order)."""
    feed = rig.venues.feeds["paper"]
    current = feed.snapshot("BTC")
    bids = {price: D(0) for price, _ in current.bids} | {D(bid): D(50)}
    asks = {price: D(0) for price, _ in current.asks} | {D(ask): D(50)}
    feed.move(bids=tuple(bids.items()), asks=tuple(asks.items()))
    await feed.settled()
    await asyncio.sleep(0.01)
