"""Funding arbitrage in the execution modes of the bot's ``execution`` section, both DBs.

The scripted books of ``test_strategy.py`` (bid 99.5 / ask 100.0, tick 0.1), base funding: long
paper_a, short paper_b, 0.60 BTC. paper_a charges 0.015 % as a maker and 0.045 % as a taker, paper_b
0.02 % and 0.05 %: both save 0.03 % by resting, a tie, so the long leg (paper_a) leads - its
maker bid rests inside the spread at 99.6.
The step runs as a task while the test drives venue time (orders rest on a manual clock).
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from database.models import Order as OrderRow
from execution.order_executor import ExecutionRequest
from tests.strategies.funding_arbitrage.test_strategy import (
    FUNDING,
    arb_config,
    set_funding,
    strategy,
)
from tests.strategies.rig import StrategyRig, strategy_rig
from trading_config.schema import BotConfig

D = Decimal
Sessions = async_sessionmaker[AsyncSession]
MAKER_A, TAKER_A, TAKER_B = D("0.00015"), D("0.00045"), D("0.0005")


def maker_config(mode: str = "limit_with_fallback", **over: Any) -> BotConfig:
    execution = {"default_mode": mode, "limit_timeout_seconds": 5, "aggressive_attempts": 2}
    return arb_config(execution=execution, **over)


def stepping(rig: StrategyRig) -> asyncio.Future[None]:
    return asyncio.ensure_future(rig.step())


async def lead_order(rig: StrategyRig, venue: str = "paper_a") -> Any:
    """The one order resting on ``venue`` (waits for it to be in the book)."""
    client = rig.venues.clients[venue]
    for _ in range(2000):
        resting = await client.open_orders()
        if resting:
            [order] = resting
            return order
        await asyncio.sleep(0.005)
    raise AssertionError(f"nothing rested on {venue}")


async def maker_fill(rig: StrategyRig, venue: str, price: str, size: str, taker: str) -> None:
    rig.venues.feeds[venue].trade(price, size, taker)  # type: ignore[arg-type]
    await rig.venues.feeds[venue].settled()


async def open_as_maker(rig: StrategyRig) -> None:
    await set_funding(rig, FUNDING)
    running = stepping(rig)
    await lead_order(rig)
    await maker_fill(rig, "paper_a", "99.6", "0.60", "sell")
    await rig.venues.drive(running)
    assert await rig.venues.positions() == {"paper_a": D("0.60"), "paper_b": D("-0.60")}


def kinds(rows: list[OrderRow]) -> list[tuple[str, str, str]]:
    return [(r.venue, r.order_type, r.purpose or "") for r in rows]


async def test_maker_entry_rests_inside_the_spread_and_the_hedge_follows(
    db_sessions: Sessions,
) -> None:
    async with strategy_rig(db_sessions, maker_config()) as rig:
        await set_funding(rig, FUNDING)
        running = stepping(rig)
        order = await lead_order(rig)
        assert (order.side, order.price, order.size, order.post_only) == (
            "buy",
            D("99.6"),
            D("0.60"),
            True,
        )
        assert rig.venues.clients["paper_b"].sent == []  # the hedge waits for the lead
        await maker_fill(rig, "paper_a", "99.6", "0.60", "sell")
        await rig.venues.drive(running)

        [position] = strategy(rig).positions
        assert (position.size, position.long_entry, position.lead_venue) == (
            D("0.60"),
            D("99.6"),
            "paper_a",
        )
        # the hedge sold within the break-even cap 99.6 + (99.5 - 100.0) = 99.1: at 99.5
        assert position.short_entry == D("99.5")
        # maker fee on the lead, taker on the hedge (vs 0.05685 at market)
        assert (
            position.fees_paid == D("0.60") * D("99.6") * MAKER_A + D("0.60") * D("99.5") * TAKER_B
        )
        assert await rig.venues.net_exposure() == 0
        stored = await rig.venues.operations.get(position.operation_id)
        assert (stored.purpose, stored.status) == ("arb_open", "completed")


async def test_limit_timeout_then_market_for_the_remainder(db_sessions: Sessions) -> None:
    async with strategy_rig(db_sessions, maker_config()) as rig:
        await set_funding(rig, FUNDING)
        running = stepping(rig)
        await lead_order(rig)
        await rig.advance(4.5)
        assert await rig.venues.clients["paper_a"].open_orders()  # still resting at 4.5 s
        assert rig.venues.clients["paper_b"].sent == []
        await rig.venues.drive(running)

        assert await rig.venues.positions() == {"paper_a": D("0.60"), "paper_b": D("-0.60")}
        rows = await rig.orders(venue="paper_a")
        assert [(r.order_type, r.post_only, r.filled_size, r.status) for r in rows] == [
            ("limit", True, D(0), "cancelled"),
            ("market", False, D("0.60"), "filled"),
        ]


async def test_aggressive_attempts_before_market(db_sessions: Sessions) -> None:
    async with strategy_rig(db_sessions, maker_config("aggressive_limit")) as rig:
        await set_funding(rig, FUNDING)
        await rig.venues.drive(stepping(rig))

        assert await rig.venues.positions() == {"paper_a": D("0.60"), "paper_b": D("-0.60")}
        rows = await rig.orders(venue="paper_a")
        # maker inside, then aggressive_attempts = 2 (touch, inside), then market
        assert [(r.order_type, r.price) for r in rows] == [
            ("limit", D("99.6")),
            ("limit", D("99.5")),
            ("limit", D("99.6")),
            ("market", None),
        ]


async def test_limit_mode_never_takes_the_lead_at_market(db_sessions: Sessions) -> None:
    async with strategy_rig(db_sessions, maker_config("limit")) as rig:
        await set_funding(rig, FUNDING)
        await rig.venues.drive(stepping(rig))

        assert strategy(rig).positions == []
        assert await rig.venues.positions() == {"paper_a": D(0), "paper_b": D(0)}
        rows = await rig.orders()
        assert [(r.venue, r.order_type, r.status) for r in rows] == [
            ("paper_a", "limit", "cancelled")
        ]


async def test_economic_exit_goes_maker_first(db_sessions: Sessions) -> None:
    async with strategy_rig(db_sessions, maker_config(max_position_age_hours=D(2))) as rig:
        await open_as_maker(rig)
        await set_funding(rig, {"paper_a": "0.0001", "paper_b": "0.0001"})
        await rig.advance(2 * 3600)
        before = len(await rig.orders())
        running = stepping(rig)
        order = await lead_order(rig)
        assert (order.side, order.price, order.reduce_only, order.post_only) == (
            "sell",
            D("99.9"),
            True,
            True,
        )
        await maker_fill(rig, "paper_a", "99.9", "0.60", "buy")
        await rig.venues.drive(running)

        assert strategy(rig).positions == []
        assert await rig.venues.positions() == {"paper_a": D(0), "paper_b": D(0)}
        closing = (await rig.orders())[before:]
        assert closing[0].venue == "paper_a"
        assert (closing[0].order_type, closing[0].filled_size) == ("limit", D("0.60"))


async def test_urgent_exit_goes_at_market_in_a_maker_mode(db_sessions: Sessions) -> None:
    async with strategy_rig(db_sessions, maker_config()) as rig:
        await open_as_maker(rig)
        before = len(await rig.orders())
        await rig.venues.clients["paper_b"].place_market_order(
            "BTC", "buy", D("0.10"), client_order_id="manual", reduce_only=True
        )
        await rig.venues.drive(stepping(rig))  # leg imbalance 16.7 % > 2 %: urgent

        assert strategy(rig).positions == []
        assert await rig.venues.positions() == {"paper_a": D(0), "paper_b": D(0)}
        closing = (await rig.orders())[before:]
        assert {r.order_type for r in closing} == {"market"}


async def test_operator_close_goes_at_market_in_a_maker_mode(db_sessions: Sessions) -> None:
    async with strategy_rig(db_sessions, maker_config()) as rig:
        await open_as_maker(rig)
        before = len(await rig.orders())
        position = await rig.venues.clients["paper_a"].position("BTC")
        assert position is not None
        closing = asyncio.ensure_future(
            strategy(rig).operator_close("paper_a", ExecutionRequest.closing(position, "operator"))
        )
        await rig.venues.drive(closing)

        assert strategy(rig).positions == []
        assert await rig.venues.positions() == {"paper_a": D(0), "paper_b": D(0)}
        assert {r.order_type for r in (await rig.orders())[before:]} == {"market"}
