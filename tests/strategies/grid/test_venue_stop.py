"""The grid's stop-loss resting on the venue (a reduce-only STOP_MARKET), through the real paper
venue and the journal on both databases.

Worked numbers (default grid of test_grid_strategy, stop_loss_percentage 20, 10x: 2 % in price):

* one lot 0.50 @ 99.6: stop 99.6 x 0.98 = 97.608 -> 97.6 (rounded away from the entry);
* two lots 0.50 @ 99.6 and 0.50 @ 99.3: average 99.45, stop 97.461 -> 97.4 for 1.00.
"""

from __future__ import annotations

import pytest
import structlog

from database.models import Order as OrderRow
from tests.exchange_clients.paper.feeds import ScriptedFeed
from tests.strategies.grid.test_grid_strategy import (
    ENTRY_1,
    ENTRY_FEE_PER_UNIT_1,
    SIZE_1,
    TP_1,
    D,
    Sessions,
    create_bot,
    fill_entry,
    grid,
    grid_config,
    open_order_ids,
    position,
    quote,
    restartable_rig,
    settle,
    take_profits,
    trade_through,
    two_lots,
    venue_while_the_bot_is_down,
    without_trigger_orders,
)
from tests.strategies.rig import StrategyRig, strategy_rig
from trading_config.schema import BotConfig

STOP_1 = D("97.6")
STOP_2 = D("97.4")


def stop_config(**over: object) -> BotConfig:
    return grid_config(stop_loss_enabled=True, stop_loss_percentage=D(20), **over)


def stops(rows: list[OrderRow]) -> list[tuple[object, ...]]:
    return [
        (row.order_type, row.side, row.trigger_price, row.size, row.status, row.reduce_only)
        for row in rows
    ]


async def resting_stops(rig: StrategyRig) -> list[tuple[object, ...]]:
    client = rig.venues.clients["paper"]
    return [
        (order.trigger_price, order.size)
        for order in await client.open_orders()
        if order.trigger_price is not None
    ]


async def crash_to(market: ScriptedFeed, bid: str, ask: str) -> None:
    """Replace the venue's book by one level a side (the bot may be dead)."""
    book = market.snapshot("BTC")
    bids = {price: D(0) for price, _ in book.bids} | {D(bid): D(1)}
    asks = {price: D(0) for price, _ in book.asks} | {D(ask): D(1)}
    market.move(bids=tuple(bids.items()), asks=tuple(asks.items()))
    await settle(market)


async def test_a_lot_gets_a_reduce_only_stop_on_the_venue(db_sessions: Sessions) -> None:
    async with strategy_rig(db_sessions, stop_config(max_orders=1)) as rig:
        await rig.step()
        await fill_entry(rig)
        assert stops(await rig.orders(purpose="grid_stop")) == [
            ("stop_market", "sell", STOP_1, SIZE_1, "open", True)
        ]
        assert await resting_stops(rig) == [(STOP_1, SIZE_1)]
        await rig.step(2)  # in sync: nothing re-placed
        assert len(await rig.orders(purpose="grid_stop")) == 1
        assert grid(rig).describe()["venue_stop"] == STOP_1


async def test_the_stop_follows_the_position_and_goes_when_flat(db_sessions: Sessions) -> None:
    async with strategy_rig(db_sessions, stop_config(max_orders=2)) as rig:
        await two_lots(rig)
        # Replaced for the new size and average entry: the new one placed, the old cancelled.
        assert stops(await rig.orders(purpose="grid_stop")) == [
            ("stop_market", "sell", STOP_1, SIZE_1, "cancelled", True),
            ("stop_market", "sell", STOP_2, D("1.00"), "open", True),
        ]
        assert await resting_stops(rig) == [(STOP_2, D("1.00"))]
        for take_profit in take_profits(rig):
            await trade_through(rig, take_profit)
        await rig.step()
        assert await position(rig) == 0
        assert await resting_stops(rig) == []
        assert grid(rig).stop_id is None
        assert [row.status for row in await rig.orders(purpose="grid_stop")] == [
            "cancelled",
            "cancelled",
        ]


async def test_a_stop_fired_while_the_bot_runs_is_booked_against_the_lots(
    db_sessions: Sessions,
) -> None:
    async with strategy_rig(db_sessions, stop_config(max_orders=1)) as rig:
        await rig.step()
        await fill_entry(rig)
        [tp] = take_profits(rig)
        await quote(rig, "97.2", "97.9")  # mid 97.55 <= 97.6: the venue sells at 97.2
        assert await position(rig) == 0
        await rig.step()
        [stop] = await rig.orders(purpose="grid_stop")
        assert (stop.status, stop.filled_size, stop.avg_fill_price) == ("filled", SIZE_1, D("97.2"))
        [tp_row] = await rig.orders(client_order_id=tp.client_order_id)
        assert tp_row.status == "cancelled"
        assert grid(rig).lots == {}
        assert grid(rig).stop_id is None
        # (97.2 - 99.6) x 0.50 - 97.2 x 0.50 x 0.0005 - 0.00996: as the bot-side stop books it
        assert grid(rig).realized_pnl == D("-1.23426")
        assert rig.context.risk.state()["trades"]["losses"] == 1


async def test_a_killed_bots_position_is_closed_by_the_venue_when_the_price_crosses(
    db_sessions: Sessions, migrated_db_url: str
) -> None:
    config = stop_config(max_orders=1)
    bot = await create_bot(db_sessions, ("paper",))
    async with restartable_rig(db_sessions, migrated_db_url, bot, config) as first:
        await first.step()
        await fill_entry(first)  # lot 0.50 @ 99.6, stop 97.6
    # The bot (and its host) is gone; only the venue runs, and the market falls.
    async with venue_while_the_bot_is_down(migrated_db_url) as market:
        await crash_to(market, "97.0", "97.5")  # mid 97.25
    async with restartable_rig(db_sessions, migrated_db_url, bot, config) as second:
        assert await position(second) == 0
        [stop] = await second.orders(purpose="grid_stop")
        assert (stop.status, stop.filled_size, stop.avg_fill_price) == ("filled", SIZE_1, D("97.0"))
        # Booked on restart: (97.0 - 99.6) x 0.50 - (0.01992 + 97.0 x 0.0005) x 0.50
        expected = (D("97.0") - ENTRY_1) * SIZE_1 - (ENTRY_FEE_PER_UNIT_1 + D("0.0485")) * SIZE_1
        assert grid(second).realized_pnl == expected == D("-1.33421")
        await second.step()
        assert grid(second).lots == {}
        assert grid(second).stop_id is None
        assert await resting_stops(second) == []


async def test_a_restart_adopts_the_stop_without_a_duplicate(
    db_sessions: Sessions, migrated_db_url: str
) -> None:
    config = stop_config(max_orders=1)
    bot = await create_bot(db_sessions, ("paper",))
    async with restartable_rig(db_sessions, migrated_db_url, bot, config) as first:
        await first.step()
        await fill_entry(first)
        stop_id = grid(first).stop_id
    async with restartable_rig(db_sessions, migrated_db_url, bot, config) as second:
        assert grid(second).stop_id == stop_id
        await second.step(3)
        assert [row.client_order_id for row in await second.orders(purpose="grid_stop")] == [
            stop_id
        ]
        assert await resting_stops(second) == [(STOP_1, SIZE_1)]
        assert stop_id in await open_order_ids(second)


async def test_two_stops_left_by_a_crash_mid_replace_become_one(
    db_sessions: Sessions, migrated_db_url: str
) -> None:
    config = stop_config(max_orders=1)
    bot = await create_bot(db_sessions, ("paper",))
    async with restartable_rig(db_sessions, migrated_db_url, bot, config) as first:
        await first.step()
        await fill_entry(first)
        # A replace that placed its new stop and died before cancelling the old one.
        extra = await grid(first).executor.place_stop(
            "BTC", "sell", SIZE_1, D("97.5"), purpose="grid_stop"
        )
        assert extra is not None
        assert len(await resting_stops(first)) == 2
    async with restartable_rig(db_sessions, migrated_db_url, bot, config) as second:
        assert len(await resting_stops(second)) == 1  # the older one cancelled at adoption
        await second.step()
        assert await resting_stops(second) == [(STOP_1, SIZE_1)]  # then synced to the position


async def test_a_position_found_without_a_stop_after_a_crash_gets_one(
    db_sessions: Sessions, migrated_db_url: str
) -> None:
    config = stop_config(max_orders=1)
    bot = await create_bot(db_sessions, ("paper",))
    async with restartable_rig(db_sessions, migrated_db_url, bot, config) as first:
        await first.step()
        await trade_through(first, first.strategy.tracker.get(grid(first).entry_id or "").order)
        assert await first.orders(purpose="grid_stop") == []  # died before its step
    async with restartable_rig(db_sessions, migrated_db_url, bot, config) as second:
        await second.step()
        assert await resting_stops(second) == [(STOP_1, SIZE_1)]
        assert [row.price for row in await second.orders(purpose="grid_tp")] == [TP_1]


async def test_on_a_venue_without_triggers_the_stop_lives_in_the_bot_and_says_so(
    db_sessions: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    without_trigger_orders(monkeypatch)
    with structlog.testing.capture_logs() as logs:
        async with strategy_rig(db_sessions, stop_config(max_orders=1)) as rig:
            await rig.step()
            await fill_entry(rig)
            await rig.step()
            assert await rig.orders(purpose="grid_stop") == []
    [warning] = [entry for entry in logs if "stop-loss lives in the bot only" in entry["event"]]
    assert warning["log_level"] == "warning"


async def test_a_graceful_stop_leaves_the_venue_stop_to_protect_the_position(
    db_sessions: Sessions,
) -> None:
    async with strategy_rig(db_sessions, stop_config(max_orders=1)) as rig:
        await rig.step()
        await fill_entry(rig)
        [tp] = take_profits(rig)
        cancelled = await rig.strategy.cleanup(cancel_orders=True)
        assert cancelled == [tp.client_order_id]
        assert await resting_stops(rig) == [(STOP_1, SIZE_1)]
