"""Funding-arbitrage controls on real paper venues, both DBs: exit spread, wide-spread
cooldown, minimum hold, mandatory venue, new positions per check, switching.

Books and funding as in ``test_strategy.py`` (orders at market there and here). With three
venues (``THREE_FUNDING``) the pairs rank: paper_a/paper_b 143.32 %, paper/paper_b 63.27 %,
paper_a/paper 55.72 % APR net.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exchange_clients.market_data.events import BookSnapshotEvent, FundingEvent, MarketEvent
from exchange_clients.types import Market
from tests.exchange_clients.paper.feeds import ScriptedFeed
from tests.exchange_clients.paper.helpers import MARKET
from tests.strategies.funding_arbitrage.test_strategy import (
    FUNDING,
    THREE,
    THREE_FUNDING,
    arb_config,
    open_base_pair,
    set_funding,
    strategy,
)
from tests.strategies.rig import StrategyRig, strategy_rig

D = Decimal
Sessions = async_sessionmaker[AsyncSession]
WIDE_ASKS = ((D("100.0"), D(0)), (D("100.5"), D(0)), (D("101.5"), D(6)))  # 2 % wide
NARROW_ASKS = ((D("100.0"), D(1)), (D("100.5"), D(2)), (D("101.5"), D(0)))


async def widen(rig: StrategyRig, venue: str, wide: bool) -> None:
    feed = rig.venues.feeds[venue]
    feed.move(asks=WIDE_ASKS if wide else NARROW_ASKS)
    await feed.settled()


# --- max exit spread ----------------------------------------------------------------------------


async def test_economic_exit_waits_for_the_spread_to_narrow(db_sessions: Sessions) -> None:
    config = arb_config(
        max_position_age_hours=D(2), max_exit_spread_pct=D(1), max_price_divergence_pct=D(3)
    )
    async with strategy_rig(db_sessions, config) as rig:
        await open_base_pair(rig)
        await set_funding(rig, {"paper_a": "0.0001", "paper_b": "0.0001"})
        await widen(rig, "paper_b", True)
        await rig.advance(2 * 3600)
        await rig.step()
        assert len(strategy(rig).positions) == 1  # max age reached, paper_b 2 % wide: waits
        assert len(await rig.orders()) == 2

        await widen(rig, "paper_b", False)
        await rig.step()
        assert strategy(rig).positions == []
        assert await rig.venues.positions() == {"paper_a": D(0), "paper_b": D(0)}


@pytest.mark.parametrize("override", [True, False])
async def test_emergency_override_of_the_exit_spread(db_sessions: Sessions, override: bool) -> None:
    config = arb_config(
        max_exit_spread_pct=D(1),
        emergency_exit_ignores_spread=override,
        max_price_divergence_pct=D(3),
    )
    async with strategy_rig(db_sessions, config) as rig:
        await open_base_pair(rig)
        await widen(rig, "paper_b", True)
        await rig.venues.clients["paper_b"].place_market_order(
            "BTC", "buy", D("0.10"), client_order_id="manual", reduce_only=True
        )
        await rig.step()  # leg imbalance: urgent

        if override:
            assert strategy(rig).positions == []
            assert await rig.venues.positions() == {"paper_a": D(0), "paper_b": D(0)}
        else:
            assert len(strategy(rig).positions) == 1
            assert await rig.venues.positions() == {"paper_a": D("0.60"), "paper_b": D("-0.50")}


# --- wide-spread cooldown -----------------------------------------------------------------------


@pytest.mark.parametrize(("cooldown", "entered_at_once"), [(0, True), (60, False)])
async def test_wide_spread_cooldown_delays_the_next_entry(
    db_sessions: Sessions, cooldown: int, entered_at_once: bool
) -> None:
    config = arb_config(wide_spread_cooldown_seconds=cooldown)
    async with strategy_rig(db_sessions, config) as rig:
        await set_funding(rig, FUNDING)
        await widen(rig, "paper_b", True)
        refused_at = rig.context.clock.now()
        await rig.step()
        assert strategy(rig).positions == []  # refused: paper_b's spread > max 1 %

        await widen(rig, "paper_b", False)
        await rig.step()
        assert bool(strategy(rig).positions) is entered_at_once
        if not entered_at_once:
            assert strategy(rig).cooldowns == {
                ("paper_b", "BTC"): refused_at + timedelta(seconds=60)
            }
            await rig.advance(59)
            await rig.step()
            assert strategy(rig).positions == []
            await rig.advance(1)
            await rig.step()
            assert len(strategy(rig).positions) == 1
        assert await rig.venues.net_exposure() == 0


# --- mandatory venue ----------------------------------------------------------------------------


async def test_every_pair_includes_the_mandatory_venue(db_sessions: Sessions) -> None:
    async with strategy_rig(db_sessions, arb_config(THREE, mandatory_venue="paper")) as rig:
        await set_funding(rig, THREE_FUNDING)
        await rig.step()

        [position] = strategy(rig).positions  # not the better paper_a/paper_b
        assert position.key == ("BTC", "paper", "paper_b")
        assert await rig.venues.net_exposure() == 0


# --- new positions per check --------------------------------------------------------------------


class TwoSymbolFeed(ScriptedFeed):
    """The scripted feed, quoting ETH too (a static copy of the BTC book and funding)."""

    def markets(self) -> dict[str, Market]:
        return {**super().markets(), "ETH": replace(MARKET, symbol="ETH")}

    async def events(self) -> AsyncIterator[MarketEvent]:
        btc = self.snapshot("BTC")
        yield BookSnapshotEvent(
            venue=btc.venue,
            symbol="ETH",
            ts=btc.ts,
            bids=btc.bids,
            asks=btc.asks,
            sequence=1,
        )
        yield FundingEvent(self.funding("ETH"))
        async for event in super().events():
            yield event


@pytest.mark.parametrize(("per_cycle", "first_step"), [(1, 1), (2, 2)])
async def test_max_new_positions_per_cycle(
    db_sessions: Sessions, monkeypatch: pytest.MonkeyPatch, per_cycle: int, first_step: int
) -> None:
    monkeypatch.setattr("tests.execution.atomic.rig.ScriptedFeed", TwoSymbolFeed)
    config = arb_config(
        symbols=["BTC", "ETH"], max_positions=2, max_new_positions_per_cycle=per_cycle
    )
    async with strategy_rig(db_sessions, config) as rig:
        await set_funding(rig, FUNDING)
        await rig.step()
        assert len(strategy(rig).positions) == first_step
        await rig.step()
        assert sorted(p.symbol for p in strategy(rig).positions) == ["BTC", "ETH"]
        assert await rig.venues.net_exposure() == 0


# --- switching ----------------------------------------------------------------------------------

# Held: long paper_a / short paper_b. Then paper_b's rate falls to paper's and paper's rises:
#   paper_a 0.00001, paper 0.0004, paper_b 0.00002 per hour.
# Held pair now: gross 0.00001/h = 8.76 % APR; its closing fees 0.00095 / 72 h = 0.0000131944/h
# (11.56 % APR) are charged to the switch: hurdle 20.32 % APR.
# Best new pair sharing nothing held besides the pair itself: long paper_a short paper:
# 0.00039 - 0.0019 / 72 = 0.000363611/h = 318.52 % APR: it beats the hurdle by 298.2 %.
SWITCH_FUNDING = {"paper_a": "0.00001", "paper": "0.0004", "paper_b": "0.00002"}


@pytest.mark.parametrize(("margin", "switched"), [("290", True), ("300", False)])
async def test_switches_only_when_the_better_pair_beats_the_margin_after_costs(
    db_sessions: Sessions, margin: str, switched: bool
) -> None:
    config = arb_config(THREE, switch_margin_apr_pct=D(margin))
    async with strategy_rig(db_sessions, config) as rig:
        await set_funding(rig, THREE_FUNDING)
        await rig.step()
        [held] = strategy(rig).positions
        assert held.key == ("BTC", "paper_a", "paper_b")
        await set_funding(rig, SWITCH_FUNDING)
        await rig.step()

        [now] = strategy(rig).positions
        expected = ("BTC", "paper_a", "paper") if switched else held.key
        assert now.key == expected
        assert await rig.venues.net_exposure() == 0
        if switched:
            assert (await rig.venues.positions())["paper_b"] == 0


async def test_min_hold_delays_a_switch(db_sessions: Sessions) -> None:
    config = arb_config(THREE, switch_margin_apr_pct=D(10), min_hold_hours=D(1))
    async with strategy_rig(db_sessions, config) as rig:
        await set_funding(rig, THREE_FUNDING)
        await rig.step()
        await set_funding(rig, SWITCH_FUNDING)
        await rig.step()
        assert strategy(rig).positions[0].key == ("BTC", "paper_a", "paper_b")  # too fresh
        await rig.advance(3600)
        await rig.step()
        assert strategy(rig).positions[0].key == ("BTC", "paper_a", "paper")
