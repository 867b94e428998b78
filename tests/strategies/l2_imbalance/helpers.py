"""The scalper on the real paper venue (tests/strategies/rig.py), with books a test sets whole.

Worked numbers used throughout (paper fees: taker 0.0005, maker 0.0002; BTC tick 0.1, step
0.01, min size 0.02; equity 10,000 USD):

* the buy book ``BUY_BOOK``: bids 10 @ 99.9, asks 3 @ 100.0 - ratio 10 / 3 = 3.33 > 3.0, mid
  99.95; an entry of 100 USD is 100 / 99.95 = 1.0005 -> 1.00 BTC, bought at 100.0 (fee 0.05);
* its exits: take-profit at mid >= 100.2 (0.20 %), stop-loss at mid <= 99.85 (0.15 %), the
  venue stop's trigger 99.85 -> 99.8 (rounded away from the entry: it backs the bot's stop up,
  never fires before it).
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.errors import RiskLimitBreached
from database.models import Order as OrderRow
from exchange_clients.types import Position
from strategies.l2_imbalance.strategy import L2ImbalanceStrategy
from tests.exchange_clients.paper.feeds import ScriptedFeed
from tests.strategies.rig import StrategyRig
from trading_config.schema import BotConfig

D = Decimal
VENUE = "paper"
Sessions = async_sessionmaker[AsyncSession]
Levels = tuple[tuple[str, str], ...]

BUY_BOOK: tuple[Levels, Levels] = ((("99.9", "10"),), (("100.0", "3"),))
SELL_BOOK: tuple[Levels, Levels] = ((("99.9", "3"),), (("100.0", "10"),))
FLAT_BOOK: tuple[Levels, Levels] = ((("99.9", "3"),), (("100.0", "3"),))
ENTRY_PRICE, ENTRY_SIZE, STOP_TRIGGER = D("100.0"), D("1.00"), D("99.8")


def config(*, risk: dict[str, Any] | None = None, **over: Any) -> BotConfig:
    params: dict[str, Any] = {
        "exchange": VENUE,
        "tickers": ["BTC"],
        "order_notional_usd": D(100),
        "daily_loss_limit_usd": D(500),
        "max_drawdown_usd": D(1000),
    }
    params.update(over)
    return BotConfig.model_validate(
        {
            "name": "l2-test",
            "strategy": {"type": "l2_imbalance", "params": params},
            "exchanges": {VENUE: {}},
            "risk": risk or {},
        }
    )


def scalper(rig: StrategyRig) -> L2ImbalanceStrategy:
    assert isinstance(rig.strategy, L2ImbalanceStrategy)
    return rig.strategy


def feed(rig: StrategyRig) -> ScriptedFeed:
    return rig.venues.feeds[VENUE]


async def book(rig: StrategyRig, levels: tuple[Levels, Levels]) -> None:
    """Replace the whole BTC book by ``(bids, asks)`` and let the venue take it in."""
    market = feed(rig)
    current = market.snapshot("BTC")
    bids = {price: D(0) for price, _ in current.bids} | {D(p): D(s) for p, s in levels[0]}
    asks = {price: D(0) for price, _ in current.asks} | {D(p): D(s) for p, s in levels[1]}
    market.move(bids=tuple(bids.items()), asks=tuple(asks.items()))
    await market.settled()
    await asyncio.sleep(0.01)


async def quote(rig: StrategyRig, bid: str, ask: str, size: str = "3") -> None:
    """A one-level book, balanced (no signal)."""
    await book(rig, (((bid, size),), ((ask, size),)))


async def position(rig: StrategyRig) -> Position | None:
    return await rig.venues.clients[VENUE].position("BTC")


async def flat(rig: StrategyRig) -> None:
    """Wait (real time) until the venue holds no BTC position (a venue stop fired)."""
    for _ in range(400):
        if await position(rig) is None:
            return
        await asyncio.sleep(0.005)
    raise AssertionError("the position never closed")


async def resting(rig: StrategyRig) -> list[tuple[object, ...]]:
    return [
        (o.order_type.value, o.side, o.size, o.price, o.trigger_price, o.reduce_only)
        for o in await rig.venues.clients[VENUE].open_orders()
    ]


async def rows(rig: StrategyRig, **where: Any) -> list[OrderRow]:
    """This rig's bot's journaled orders (two rigs in one test share the database)."""
    return await rig.orders(bot_id=rig.bot_id, **where)


def last_breach(rig: StrategyRig) -> RiskLimitBreached:
    assert scalper(rig).breaches, "no limit was hit"
    return scalper(rig).breaches[-1]


async def assert_journal_is_true(rig: StrategyRig) -> None:
    """Every order that reached the venue was journaled (before it was sent: the executor's
    contract), with the venue's final state."""
    journaled = {row.client_order_id: row for row in await rows(rig)}
    client = rig.venues.clients[VENUE]
    assert set(client.sent) <= set(journaled), set(client.sent) - set(journaled)
    for client_id in client.sent:
        order = await client.order_status("BTC", client_order_id=client_id)
        row = journaled[client_id]
        assert (row.status, row.filled_size) == (order.status.value, order.filled_size)
