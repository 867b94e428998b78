"""The grid strategy on the real paper venue, the journal on both databases, a manual clock.

The book (tests/exchange_clients/paper/helpers.py): asks 1 @ 100.0, 2 @ 100.5, 3 @ 101.0; bids
1 @ 99.5, 2 @ 99.0, 3 @ 98.5 (mid 99.75); tick 0.1, step 0.01, min size 0.02, min notional 5.
Paper fees: maker 0.0002, taker 0.0005.

Default grid (``grid_config()``): long BTC, 50 USD per entry, 10x, take-profit 5 % on margin
(= 0.5 % in price), grid step 0.2 %, at most 3 take-profits and 100 USD margin, no cooldown.
Worked numbers used throughout:

* first entry: bid 99.5 + 1 tick = 99.6; size 50 / 99.6 = 0.502 -> 0.50 (step 0.01, down);
  entry fee (maker) 99.6 x 0.50 x 0.0002 = 0.00996, i.e. 0.01992 per unit;
* its take-profit: 99.6 x 1.005 = 100.098 -> 100.1 (rounded up, away from the entry);
* that take-profit filled: (100.1 - 99.6) x 0.50 = 0.25, minus the exit fee
  100.1 x 0.50 x 0.0002 = 0.01001 and the entry fee 0.00996: PnL 0.23003.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import pytest
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import ManualClock
from database.models import Order as OrderRow
from exchange_clients.types import Order
from strategies.grid.strategy import GridStrategy
from tests.exchange_clients.paper.feeds import ScriptedFeed
from tests.exchange_clients.paper.helpers import START
from tests.execution.atomic.rig import InstrumentedPaperClient, create_bot, make_clients
from tests.strategies.rig import StrategyRig, strategy_rig
from trading_config.schema import BotConfig

D = Decimal
TICK = D("0.1")
VENUE = "paper"
Sessions = async_sessionmaker[AsyncSession]

# The first lot of the default grid (see the module docstring).
ENTRY_1, SIZE_1, TP_1 = D("99.6"), D("0.50"), D("100.1")
ENTRY_FEE_PER_UNIT_1 = D("0.01992")  # 99.6 x 0.0002
TP_1_PNL = D("0.23003")  # 0.25 - 0.01001 - 0.00996


# --- helpers --------------------------------------------------------------------------------


def grid_config(*, risk: dict[str, Any] | None = None, **over: Any) -> BotConfig:
    params: dict[str, Any] = {
        "exchange": VENUE,
        "ticker": "BTC",
        "direction": "buy",
        "order_notional_usd": D(50),
        "target_leverage": D(10),
        "take_profit": D(5),
        "grid_step": D("0.2"),
        "max_orders": 3,
        "max_margin_usd": D(100),
        "wait_time": D(0),
    }
    params.update(over)
    return BotConfig.model_validate(
        {
            "name": "grid-test",
            "strategy": {"type": "grid", "params": params},
            "exchanges": {VENUE: {}},
            "risk": risk or {},
        }
    )


def grid(rig: StrategyRig) -> GridStrategy:
    assert isinstance(rig.strategy, GridStrategy)
    return rig.strategy


def feed(rig: StrategyRig) -> ScriptedFeed:
    return rig.venues.feeds[VENUE]


async def settle(market: ScriptedFeed) -> None:
    """Let the venue handle what the feed pushed and the tracker see the outcome."""
    await market.settled()
    await asyncio.sleep(0.01)


async def quote(rig: StrategyRig, bid: str, ask: str, size: str = "1") -> None:
    """Replace the whole book by one bid level and one ask level."""
    market = feed(rig)
    book = market.snapshot("BTC")
    bids = {price: D(0) for price, _ in book.bids} | {D(bid): D(size)}
    asks = {price: D(0) for price, _ in book.asks} | {D(ask): D(size)}
    market.move(bids=tuple(bids.items()), asks=tuple(asks.items()))
    await settle(market)


async def trade_through(rig: StrategyRig, order: Order, size: Decimal | None = None) -> None:
    """A public trade one tick through ``order``'s price: fills it (by ``size``, else all).

    Returns once the strategy's tracker has seen the fill.
    """
    assert order.price is not None
    amount = order.remaining_size if size is None else size
    if order.side == "buy":
        feed(rig).trade(str(order.price - TICK), str(amount), "sell")
    else:
        feed(rig).trade(str(order.price + TICK), str(amount), "buy")
    await settle(feed(rig))
    filled = order.filled_size + min(amount, order.remaining_size)
    tracker = grid(rig).tracker
    await rig.venues.until(lambda: tracker.get(order.client_order_id).order.filled_size >= filled)


def entry(rig: StrategyRig) -> Order:
    """The resting entry the strategy tracks."""
    strategy = grid(rig)
    assert strategy.entry_id is not None, "no resting entry"
    return strategy.tracker.get(strategy.entry_id).order


def take_profits(rig: StrategyRig) -> list[Order]:
    """The take-profits of the strategy's lots, lowest price first."""
    strategy = grid(rig)
    orders = [strategy.tracker.get(client_id).order for client_id in strategy.lots]
    return sorted(orders, key=lambda order: order.price or D(0))


async def fill_entry(rig: StrategyRig) -> None:
    """Fill the resting entry entirely and let the strategy place its take-profit."""
    await trade_through(rig, entry(rig))
    await rig.step()


async def position(rig: StrategyRig) -> Decimal:
    return (await rig.venues.positions())[VENUE]


async def open_order_ids(rig: StrategyRig) -> set[str]:
    return {order.client_order_id for order in await rig.venues.clients[VENUE].open_orders()}


def summary(rows: list[OrderRow]) -> list[tuple[Any, ...]]:
    """What a journal row says about an order, for whole-list comparisons."""
    return [
        (row.purpose, row.side, row.price, row.size, row.filled_size, row.status, row.reduce_only)
        for row in rows
    ]


async def two_lots(rig: StrategyRig) -> None:
    """Lots at 99.6 (take-profit 100.1) and 99.3 (take-profit 99.8), bid then at 99.2.

    Second entry: bid 99.2 + 1 tick = 99.3, size 50 / 99.3 = 0.5035 -> 0.50,
    take-profit 99.3 x 1.005 = 99.7965 -> 99.8 (0.2997 % below 100.1: far enough).
    """
    await rig.step()
    await fill_entry(rig)
    await quote(rig, "99.2", "100.0")
    await rig.step()
    assert entry(rig).price == D("99.3")
    await fill_entry(rig)
    assert [tp.price for tp in take_profits(rig)] == [D("99.8"), TP_1]


@asynccontextmanager
async def venue_while_the_bot_is_down(url: str) -> AsyncIterator[ScriptedFeed]:
    """The persisted paper venue running alone: its feed's trades fill resting orders."""
    feeds, clients = make_clients(ManualClock(START), venues=(VENUE,), database_url=url)
    await clients[VENUE].connect()
    await feeds[VENUE].settled()
    try:
        yield feeds[VENUE]
    finally:
        await clients[VENUE].disconnect()


@asynccontextmanager
async def restartable_rig(
    sessions: Sessions, url: str, bot: tuple[int, dict[str, int]], config: BotConfig
) -> AsyncIterator[StrategyRig]:
    """A rig whose paper venue (orders, position) is persisted in ``url`` for ``bot``."""
    async with strategy_rig(sessions, config, bot=bot, database_url=url) as rig:
        yield rig


# --- 1. entries -----------------------------------------------------------------------------


async def test_first_entry_is_post_only_one_tick_inside_the_touch(db_sessions: Sessions) -> None:
    async with strategy_rig(db_sessions, grid_config()) as rig:
        await rig.step()
        [row] = await rig.orders(purpose="grid_entry")
        # bid 99.5 + 1 tick; 50 USD / 99.6 = 0.502 -> 0.50
        assert (row.side, row.price, row.size, row.post_only, row.reduce_only, row.status) == (
            "buy",
            ENTRY_1,
            SIZE_1,
            True,
            False,
            "open",
        )
        assert await open_order_ids(rig) == {row.client_order_id}


async def test_zero_tick_multiplier_joins_the_bid(db_sessions: Sessions) -> None:
    async with strategy_rig(db_sessions, grid_config(post_only_tick_multiplier=0)) as rig:
        await rig.step()
        [row] = await rig.orders(purpose="grid_entry")
        # at the bid 99.5; 50 / 99.5 = 0.5025 -> 0.50
        assert (row.price, row.size, row.post_only, row.status) == (
            D("99.5"),
            D("0.50"),
            True,
            "open",
        )


@pytest.mark.parametrize("multiplier", [1, 5])
async def test_one_tick_spread_never_crosses(db_sessions: Sessions, multiplier: int) -> None:
    async with strategy_rig(db_sessions, grid_config(post_only_tick_multiplier=multiplier)) as rig:
        await quote(rig, "99.9", "100.0")
        await rig.step()
        [row] = await rig.orders(purpose="grid_entry")
        # No room inside a one-tick spread: the entry joins the bid (99.9 < ask 100.0) and the
        # post-only order rests instead of being rejected.
        assert (row.price, row.post_only, row.status) == (D("99.9"), True, "open")


async def test_entry_stops_one_tick_below_the_ask_when_the_spread_is_narrower_than_asked(
    db_sessions: Sessions,
) -> None:
    async with strategy_rig(db_sessions, grid_config(post_only_tick_multiplier=10)) as rig:
        await rig.step()
        [row] = await rig.orders(purpose="grid_entry")
        # bid 99.5 + 10 ticks = 100.5 would cross the ask 100.0: capped at 100.0 - 1 tick.
        assert (row.price, row.status) == (D("99.9"), "open")


async def test_entry_left_behind_by_the_touch_is_cancelled_and_replaced(
    db_sessions: Sessions,
) -> None:
    async with strategy_rig(db_sessions, grid_config()) as rig:
        await rig.step()
        first = entry(rig)
        # The bid rises to 99.9 (ask 100.2): 99.6 is (99.9 - 99.6) / 99.9 = 0.30 % behind > 0.2 %.
        await quote(rig, "99.9", "100.2")
        await rig.step()  # cancels
        await rig.step()  # re-places at 99.9 + 1 tick = 100.0
        rows = await rig.orders(purpose="grid_entry")
        assert [(r.client_order_id, r.price, r.status) for r in rows] == [
            (first.client_order_id, ENTRY_1, "cancelled"),
            (rows[1].client_order_id, D("100.0"), "open"),
        ]


async def test_entry_inside_an_unchanged_touch_is_kept(db_sessions: Sessions) -> None:
    async with strategy_rig(db_sessions, grid_config(grid_step=D("0.1"))) as rig:
        await rig.step()
        # Nothing moved; the entry sits 1 tick above the bid: |99.5 - 99.6| / 99.5 = 0.1005 %,
        # which the strategy takes for "left 0.1 % behind".
        await rig.step(2)
        rows = await rig.orders(purpose="grid_entry")
        assert [(r.price, r.status) for r in rows] == [(ENTRY_1, "open")]


# --- 2. fills get take-profits --------------------------------------------------------------


async def test_filled_entry_gets_a_reduce_only_take_profit_for_its_size(
    db_sessions: Sessions,
) -> None:
    async with strategy_rig(db_sessions, grid_config()) as rig:
        await rig.step()
        await fill_entry(rig)
        [entry_row] = await rig.orders(purpose="grid_entry")
        assert (entry_row.status, entry_row.filled_size, entry_row.avg_fill_price) == (
            "filled",
            SIZE_1,
            ENTRY_1,
        )
        [tp] = await rig.orders(purpose="grid_tp")
        # 99.6 x (1 + 5 / 10 / 100) = 100.098 -> 100.1
        assert (tp.side, tp.price, tp.size, tp.reduce_only, tp.post_only, tp.status) == (
            "sell",
            TP_1,
            SIZE_1,
            True,
            False,
            "open",
        )
        assert await position(rig) == SIZE_1
        [lot] = grid(rig).lots.values()
        assert (lot.take_profit_id, lot.entry_price, lot.entry_fee_per_unit, lot.opened_at) == (
            tp.client_order_id,
            ENTRY_1,
            ENTRY_FEE_PER_UNIT_1,
            START,
        )


async def test_partial_fill_gets_a_take_profit_for_the_filled_part_once_the_entry_ends(
    db_sessions: Sessions,
) -> None:
    async with strategy_rig(db_sessions, grid_config()) as rig:
        await rig.step()
        await trade_through(rig, entry(rig), D("0.2"))
        await rig.step()
        # Still resting with 0.20 of 0.50 filled: no take-profit yet.
        assert (entry(rig).status.value, entry(rig).filled_size) == ("partially_filled", D("0.2"))
        assert await rig.orders(purpose="grid_tp") == []
        rig.context.paused.set()  # the entry is cancelled...
        await rig.step(2)  # ...and, once final, its 0.20 gets a take-profit
        [entry_row] = await rig.orders(purpose="grid_entry")
        assert (entry_row.status, entry_row.filled_size) == ("cancelled", D("0.20"))
        [tp] = await rig.orders(purpose="grid_tp")
        assert (tp.side, tp.price, tp.size, tp.reduce_only, tp.status) == (
            "sell",
            TP_1,
            D("0.20"),
            True,
            "open",
        )
        assert await position(rig) == D("0.20")


# --- 3. take-profit fills -------------------------------------------------------------------


async def test_take_profit_fill_books_pnl_with_fees_and_tells_the_risk_manager(
    db_sessions: Sessions,
) -> None:
    async with strategy_rig(db_sessions, grid_config()) as rig:
        await rig.step()
        await fill_entry(rig)
        [tp] = take_profits(rig)
        await trade_through(rig, tp)  # a buy taker at 100.2 lifts the 100.1 take-profit
        await rig.step()
        strategy = grid(rig)
        # (100.1 - 99.6) x 0.50 - 100.1 x 0.50 x 0.0002 - 99.6 x 0.50 x 0.0002
        # = 0.25 - 0.01001 - 0.00996
        assert strategy.realized_pnl == TP_1_PNL
        assert strategy.fees == D("0.01997")  # entry 0.00996 + take-profit 0.01001, from fills
        assert strategy.describe()["fees"] == strategy.fees  # what the control API reports
        assert strategy.trades == 1
        assert tp.client_order_id not in strategy.lots
        assert strategy.lots == {}
        risk = rig.context.risk.state()
        assert risk["daily_realised_pnl"] == TP_1_PNL
        assert risk["trades"] == {
            "count": 1,
            "wins": 1,
            "losses": 0,
            "sum_wins": TP_1_PNL,
            "sum_losses": D(0),
        }
        assert await position(rig) == 0
        [tp_row] = await rig.orders(purpose="grid_tp")
        assert (tp_row.status, tp_row.filled_size, tp_row.avg_fill_price) == (
            "filled",
            SIZE_1,
            TP_1,
        )


# --- 4. grid step ---------------------------------------------------------------------------


async def test_next_entry_waits_until_its_take_profit_is_a_grid_step_away(
    db_sessions: Sessions,
) -> None:
    async with strategy_rig(db_sessions, grid_config()) as rig:
        await rig.step()
        await fill_entry(rig)
        # Same book: the next entry would be 99.6 again, its take-profit 100.1 = the existing one.
        assert await rig.orders(purpose="grid_entry", status="open") == []
        # bid 99.3: entry 99.4, take-profit 99.4 x 1.005 = 99.897 -> 99.9,
        # (100.1 - 99.9) / 100.1 = 0.1998 % < 0.2 %: still too close.
        await quote(rig, "99.3", "100.0")
        await rig.step()
        assert await rig.orders(purpose="grid_entry", status="open") == []
        # bid 99.2: entry 99.3, take-profit 99.7965 -> 99.8, 0.3 / 100.1 = 0.2997 %: placed.
        await quote(rig, "99.2", "100.0")
        await rig.step()
        [row] = await rig.orders(purpose="grid_entry", status="open")
        assert (row.price, row.size) == (D("99.3"), D("0.50"))


# --- 5. caps and cooldown -------------------------------------------------------------------


@pytest.mark.parametrize(("max_orders", "third_entry"), [(2, None), (3, D("99.0"))])
async def test_max_orders_caps_the_lots(
    db_sessions: Sessions, max_orders: int, third_entry: Decimal | None
) -> None:
    async with strategy_rig(db_sessions, grid_config(max_orders=max_orders)) as rig:
        await two_lots(rig)
        # bid 98.9: entry 99.0, take-profit 99.495 -> 99.5 (0.30 % from 99.8): spaced, so only
        # max_orders decides.
        await quote(rig, "98.9", "100.0")
        await rig.step()
        assert len(grid(rig).lots) == 2
        rows = await rig.orders(purpose="grid_entry", status="open")
        assert [row.price for row in rows] == ([] if third_entry is None else [third_entry])


@pytest.mark.parametrize(("max_margin", "third_entry"), [("14.89", None), ("14.9", D("99.0"))])
async def test_max_margin_caps_the_lots(
    db_sessions: Sessions, max_margin: str, third_entry: Decimal | None
) -> None:
    config = grid_config(max_orders=5, max_margin_usd=D(max_margin))
    async with strategy_rig(db_sessions, config) as rig:
        await two_lots(rig)
        # margin in use: 0.50 x 99.6 / 10 + 0.50 x 99.3 / 10 = 4.98 + 4.965 = 9.945;
        # the third entry (0.50 @ 99.0) adds 4.95: 14.895, above 14.89 and within 14.9.
        await quote(rig, "98.9", "100.0")
        await rig.step()
        rows = await rig.orders(purpose="grid_entry", status="open")
        assert [row.price for row in rows] == ([] if third_entry is None else [third_entry])


async def test_cooldown_scales_with_how_full_the_grid_is(db_sessions: Sessions) -> None:
    async with strategy_rig(db_sessions, grid_config(wait_time=D(10), max_orders=2)) as rig:
        await rig.step()  # no entry yet: no cooldown; placed at START
        await fill_entry(rig)  # one take-profit of at most 2: wait 10 x (1 + 1/2) = 15 s
        await quote(rig, "99.2", "100.0")  # an entry at 99.3 would be spaced far enough
        await rig.step()
        assert await rig.orders(purpose="grid_entry", status="open") == []
        await rig.advance(14.9)
        await rig.step()
        assert await rig.orders(purpose="grid_entry", status="open") == []
        await rig.advance(0.1)  # 15 s after the first entry
        await rig.step()
        [row] = await rig.orders(purpose="grid_entry", status="open")
        assert row.price == D("99.3")


@pytest.mark.parametrize(("cap", "placed"), [("49.8", True), ("49.79", False)])
async def test_entry_needs_the_risk_managers_full_yes(
    db_sessions: Sessions, cap: str, placed: bool
) -> None:
    config = grid_config(risk={"max_position_notional_usd": cap})
    async with strategy_rig(db_sessions, config) as rig:
        await rig.step()
        # The entry is 0.50 x 99.6 = 49.8 USD: allowed under a 49.8 cap; under 49.79 the risk
        # manager would resize it, which for a fixed-size grid entry means "not now".
        rows = await rig.orders(purpose="grid_entry")
        assert [row.price for row in rows] == ([ENTRY_1] if placed else [])


# --- 6. stop price --------------------------------------------------------------------------


async def stopped_grid(rig: StrategyRig) -> None:
    """A lot (0.50 @ 99.6, take-profit 100.1), an entry resting at 99.3; then the mid hits 99.0."""
    await rig.step()
    await fill_entry(rig)
    await quote(rig, "99.2", "100.0")
    await rig.step()
    assert entry(rig).price == D("99.3")
    await quote(rig, "98.0", "100.0")  # mid (98.0 + 100.0) / 2 = 99.0 = stop_price
    await rig.step()


async def test_stop_price_cancels_everything_closes_the_position_and_stops(
    db_sessions: Sessions,
) -> None:
    async with strategy_rig(db_sessions, grid_config(stop_price=D("99.0"))) as rig:
        await stopped_grid(rig)
        assert summary(await rig.orders()) == [
            ("grid_entry", "buy", ENTRY_1, SIZE_1, SIZE_1, "filled", False),
            ("grid_tp", "sell", TP_1, SIZE_1, D(0), "cancelled", True),
            ("grid_entry", "buy", D("99.3"), D("0.50"), D(0), "cancelled", False),
            ("grid_exit", "sell", None, SIZE_1, SIZE_1, "filled", True),  # at market
        ]
        [exit_row] = await rig.orders(purpose="grid_exit")
        assert (exit_row.order_type, exit_row.avg_fill_price) == ("market", D("98.0"))
        assert await position(rig) == 0
        assert await open_order_ids(rig) == set()
        strategy = grid(rig)
        assert strategy.stopped
        assert strategy.stop_reason is not None
        assert rig.context.stop_requested.is_set()
        assert (strategy.entry_id, strategy.lots) == (None, {})
        # Stopped: nothing more, even when the price comes back.
        await quote(rig, "99.5", "100.0")
        await rig.step(3)
        assert len(await rig.orders()) == 4
        assert not await rig.strategy.should_execute()


async def test_stop_price_exit_books_the_loss(db_sessions: Sessions) -> None:
    async with strategy_rig(db_sessions, grid_config(stop_price=D("99.0"))) as rig:
        await stopped_grid(rig)
        # (98.0 - 99.6) x 0.50 - 98.0 x 0.50 x 0.0005 (taker) - 0.00996 = -0.8 - 0.0245 - 0.00996
        loss = D("-0.83446")
        assert grid(rig).realized_pnl == loss
        assert rig.context.risk.state()["trades"]["losses"] == 1


# --- 7. pause -------------------------------------------------------------------------------


async def test_pause_price_holds_entries_and_cancels_the_resting_one(
    db_sessions: Sessions,
) -> None:
    async with strategy_rig(db_sessions, grid_config(pause_price=D("99.75"))) as rig:
        await rig.step()  # mid 99.75 >= pause_price: a long grid pauses
        assert await rig.orders() == []
        await quote(rig, "99.4", "100.0")  # mid 99.7: below it
        await rig.step()
        [first] = await rig.orders(purpose="grid_entry", status="open")
        assert first.price == D("99.5")
        await quote(rig, "99.5", "100.0")  # mid 99.75 again
        await rig.step(2)
        rows = await rig.orders(purpose="grid_entry")
        assert [(r.price, r.status) for r in rows] == [(D("99.5"), "cancelled")]
        await quote(rig, "99.4", "100.0")
        await rig.step()
        rows = await rig.orders(purpose="grid_entry")
        assert [(r.price, r.status) for r in rows] == [
            (D("99.5"), "cancelled"),
            (D("99.5"), "open"),
        ]


async def test_control_pause_cancels_the_entry_and_resume_places_again(
    db_sessions: Sessions,
) -> None:
    async with strategy_rig(db_sessions, grid_config()) as rig:
        await rig.step()
        rig.context.paused.set()
        await rig.step(2)
        rows = await rig.orders(purpose="grid_entry")
        assert [(r.price, r.status) for r in rows] == [(ENTRY_1, "cancelled")]
        assert await open_order_ids(rig) == set()
        rig.context.paused.clear()
        await rig.step()
        rows = await rig.orders(purpose="grid_entry")
        assert [(r.price, r.status) for r in rows] == [
            (ENTRY_1, "cancelled"),
            (ENTRY_1, "open"),
        ]


# --- 8. stop-loss ---------------------------------------------------------------------------


def without_trigger_orders(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the paper venue one without trigger orders: the stop-loss lives in the bot."""
    monkeypatch.setattr(InstrumentedPaperClient, "supports_trigger_orders", False)


async def test_stop_loss_closes_a_losing_lot_at_market(
    db_sessions: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    without_trigger_orders(monkeypatch)
    config = grid_config(stop_loss_enabled=True, stop_loss_percentage=D(20), max_orders=1)
    async with strategy_rig(db_sessions, config) as rig:
        await rig.step()
        await fill_entry(rig)
        [tp] = take_profits(rig)
        # mid 97.65: (99.6 - 97.65) / 99.6 x 100 x 10 = 19.58 % on margin < 20 %: kept.
        await quote(rig, "97.3", "98.0")
        await rig.step()
        assert tp.client_order_id in grid(rig).lots
        assert await rig.orders(purpose="grid_exit") == []
        # mid 97.55: 2.05 / 99.6 x 1000 = 20.58 % >= 20 %: closed at market.
        await quote(rig, "97.2", "97.9")
        await rig.step()
        assert tp.client_order_id not in grid(rig).lots
        [tp_row] = await rig.orders(client_order_id=tp.client_order_id)
        assert tp_row.status == "cancelled"
        [exit_row] = await rig.orders(purpose="grid_exit")
        assert (
            exit_row.side,
            exit_row.order_type,
            exit_row.size,
            exit_row.filled_size,
            exit_row.avg_fill_price,
            exit_row.reduce_only,
        ) == ("sell", "market", SIZE_1, SIZE_1, D("97.2"), True)
        assert await position(rig) == 0
        # (97.2 - 99.6) x 0.50 - 97.2 x 0.50 x 0.0005 - 0.00996 = -1.2 - 0.0243 - 0.00996
        assert grid(rig).realized_pnl == D("-1.23426")
        assert rig.context.risk.state()["trades"]["losses"] == 1
        assert await rig.orders(purpose="grid_stop") == []  # nothing rests on the venue


async def test_stop_loss_exit_sends_no_take_profit_for_the_closed_part(
    db_sessions: Sessions,
) -> None:
    config = grid_config(stop_loss_enabled=True, stop_loss_percentage=D(20), max_orders=2)
    async with strategy_rig(db_sessions, config) as rig:
        await two_lots(rig)
        # mid 97.55: the 99.6 lot is at 20.58 % on margin (closed), the 99.3 lot at
        # (99.3 - 97.55) / 99.3 x 1000 = 17.62 % (kept).
        await quote(rig, "97.2", "97.9")
        await rig.step()
        assert await position(rig) == D("0.50")
        rows = await rig.orders(purpose="grid_tp")
        assert [(row.price, row.size, row.status) for row in rows] == [
            (TP_1, SIZE_1, "cancelled"),
            (D("99.8"), D("0.50"), "open"),
        ]


# --- 9. stuck lots --------------------------------------------------------------------------


def stuck_config(mode: str) -> BotConfig:
    return grid_config(position_timeout_minutes=1, recovery_mode=mode, max_orders=1)


async def stuck_lot(rig: StrategyRig) -> Order:
    """One lot opened at START, then the clock moved to just before / at its timeout."""
    await rig.step()
    await fill_entry(rig)
    [tp] = take_profits(rig)
    await rig.advance(59)
    await rig.step()
    assert [order.client_order_id for order in take_profits(rig)] == [tp.client_order_id]
    await rig.advance(1)  # 60 s: position_timeout_minutes reached
    await rig.step()
    return tp


async def test_stuck_lot_aggressive_closes_at_market(db_sessions: Sessions) -> None:
    async with strategy_rig(db_sessions, stuck_config("aggressive")) as rig:
        tp = await stuck_lot(rig)
        assert tp.client_order_id not in grid(rig).lots
        [tp_row] = await rig.orders(client_order_id=tp.client_order_id)
        assert tp_row.status == "cancelled"
        [exit_row] = await rig.orders(purpose="grid_exit")
        assert (exit_row.side, exit_row.order_type, exit_row.filled_size) == (
            "sell",
            "market",
            SIZE_1,
        )
        assert (exit_row.avg_fill_price, exit_row.reduce_only) == (D("99.5"), True)
        assert await position(rig) == 0
        # (99.5 - 99.6) x 0.50 - 99.5 x 0.50 x 0.0005 - 0.00996 = -0.05 - 0.024875 - 0.00996
        assert grid(rig).realized_pnl == D("-0.084835")


async def test_stuck_lot_hedge_moves_the_take_profit_to_break_even(db_sessions: Sessions) -> None:
    async with strategy_rig(db_sessions, stuck_config("hedge")) as rig:
        tp = await stuck_lot(rig)
        old, new = await rig.orders(purpose="grid_tp")
        assert (old.client_order_id, old.status) == (tp.client_order_id, "cancelled")
        # 99.6 + 2 x 0.01992 = 99.63984 -> 99.7 (rounded up, away from the entry)
        assert (new.side, new.price, new.size, new.reduce_only, new.status) == (
            "sell",
            D("99.7"),
            SIZE_1,
            True,
            "open",
        )
        [lot] = grid(rig).lots.values()
        assert (lot.take_profit_id, lot.entry_price, lot.opened_at, lot.recovered) == (
            new.client_order_id,
            ENTRY_1,
            START,
            True,
        )
        assert await rig.orders(purpose="grid_exit") == []
        # Moved once only, however long it stays stuck.
        await rig.advance(60)
        await rig.step(2)
        assert len(await rig.orders(purpose="grid_tp")) == 2
        # The next bounce exits it at about break-even:
        # (99.7 - 99.6) x 0.50 - 99.7 x 0.50 x 0.0002 - 0.00996 = 0.05 - 0.00997 - 0.00996
        [moved] = take_profits(rig)
        await trade_through(rig, moved)
        await rig.step()
        assert grid(rig).realized_pnl == D("0.03007")
        assert await position(rig) == 0


async def test_stuck_lot_none_only_warns(db_sessions: Sessions) -> None:
    with structlog.testing.capture_logs() as logs:
        async with strategy_rig(db_sessions, stuck_config("none")) as rig:
            tp = await stuck_lot(rig)
            await rig.advance(60)
            await rig.step()
            [tp_row] = await rig.orders(purpose="grid_tp")
            assert (tp_row.client_order_id, tp_row.price, tp_row.status) == (
                tp.client_order_id,
                TP_1,
                "open",
            )
            assert await rig.orders(purpose="grid_exit") == []
            assert await position(rig) == SIZE_1
    warnings = [
        entry for entry in logs if entry["event"] == "grid lot stuck; recovery_mode is none"
    ]
    assert [(w["log_level"], w["take_profit"]) for w in warnings] == [
        ("warning", tp.client_order_id)  # once, not at every step
    ]


# --- 10. restart ----------------------------------------------------------------------------


async def test_restart_adopts_the_resting_entry_and_take_profit_without_duplicates(
    db_sessions: Sessions, migrated_db_url: str
) -> None:
    # db_sessions is built on migrated_db_url: the journal and the paper venue share one db.
    config = grid_config()
    bot = await create_bot(db_sessions, (VENUE,))
    async with restartable_rig(db_sessions, migrated_db_url, bot, config) as first:
        await first.step()
        await fill_entry(first)  # lot 0.50 @ 99.6, take-profit 100.1
        await quote(first, "99.2", "100.0")
        await first.step()  # entry 99.3
        before = summary(await first.orders())
        assert before == [
            ("grid_entry", "buy", ENTRY_1, SIZE_1, SIZE_1, "filled", False),
            ("grid_tp", "sell", TP_1, SIZE_1, D(0), "open", True),
            ("grid_entry", "buy", D("99.3"), D("0.50"), D(0), "open", False),
        ]
        resting = await open_order_ids(first)
        lots, entry_id = dict(grid(first).lots), grid(first).entry_id
    async with restartable_rig(db_sessions, migrated_db_url, bot, config) as second:
        # The new process's feed starts from the default book: show it where the market was
        # (at bid 99.5 the 99.3 entry would be 0.201 % behind and rightly re-placed).
        await quote(second, "99.2", "100.0")
        assert (grid(second).lots, grid(second).entry_id) == (lots, entry_id)
        await second.step(3)
        assert summary(await second.orders()) == before
        assert await open_order_ids(second) == resting
        assert await position(second) == SIZE_1


async def test_restart_covers_a_position_left_without_take_profit(
    db_sessions: Sessions, migrated_db_url: str
) -> None:
    config = grid_config()
    bot = await create_bot(db_sessions, (VENUE,))
    async with restartable_rig(db_sessions, migrated_db_url, bot, config) as first:
        await first.step()
        await trade_through(first, entry(first))  # filled; the process dies before its step
        assert await first.orders(purpose="grid_tp") == []
    async with restartable_rig(db_sessions, migrated_db_url, bot, config) as second:
        assert await position(second) == SIZE_1
        await second.step(3)
        [tp] = await second.orders(purpose="grid_tp")
        # Covered from the position's entry price 99.6: 100.098 -> 100.1.
        assert (tp.side, tp.price, tp.size, tp.reduce_only, tp.status) == (
            "sell",
            TP_1,
            SIZE_1,
            True,
            "open",
        )
        assert await open_order_ids(second) == {tp.client_order_id}


async def test_restart_books_a_take_profit_that_filled_while_down(
    db_sessions: Sessions, migrated_db_url: str
) -> None:
    config = grid_config()
    bot = await create_bot(db_sessions, (VENUE,))
    async with restartable_rig(db_sessions, migrated_db_url, bot, config) as first:
        await first.step()
        await fill_entry(first)  # lot 0.50 @ 99.6, take-profit 100.1
    async with venue_while_the_bot_is_down(migrated_db_url) as market:
        market.trade("100.2", "1", "buy")  # lifts the take-profit
        await settle(market)
    async with restartable_rig(db_sessions, migrated_db_url, bot, config) as second:
        assert await position(second) == 0
        [tp] = await second.orders(purpose="grid_tp")
        assert (tp.status, tp.filled_size) == ("filled", SIZE_1)  # reconciled
        await second.step()
        assert grid(second).lots == {}
        assert (grid(second).realized_pnl, grid(second).trades) == (TP_1_PNL, 1)
        assert second.context.risk.state()["trades"]["wins"] == 1


async def test_restart_covers_a_second_lot_from_its_own_entry_price(
    db_sessions: Sessions, migrated_db_url: str
) -> None:
    config = grid_config()
    bot = await create_bot(db_sessions, (VENUE,))
    async with restartable_rig(db_sessions, migrated_db_url, bot, config) as first:
        await first.step()
        await fill_entry(first)  # lot 0.50 @ 99.6, take-profit 100.1
        await quote(first, "99.2", "100.0")
        await first.step()
        await trade_through(first, entry(first))  # 0.50 @ 99.3; dies before its take-profit
    async with restartable_rig(db_sessions, migrated_db_url, bot, config) as second:
        await quote(second, "99.2", "100.0")
        assert await position(second) == D("1.00")
        await second.step()
        rows = await second.orders(purpose="grid_tp")
        # 99.3 x 1.005 = 99.7965 -> 99.8
        assert [(row.price, row.size, row.status) for row in rows] == [
            (TP_1, SIZE_1, "open"),
            (D("99.8"), D("0.50"), "open"),
        ]
        assert sorted(lot.entry_price for lot in grid(second).lots.values()) == [
            D("99.3"),
            ENTRY_1,
        ]


# --- 11. state ------------------------------------------------------------------------------


async def test_state_survives_a_json_round_trip(db_sessions: Sessions) -> None:
    async with strategy_rig(db_sessions, grid_config()) as rig:
        await rig.step()
        await fill_entry(rig)
        [tp] = take_profits(rig)
        await trade_through(rig, tp)
        await rig.step()  # booked 0.23003; a new entry at 99.6 is placed in the same step
        await rig.advance(5)
        await fill_entry(rig)  # a lot at 99.6 again, opened at START + 5 s
        await quote(rig, "99.2", "100.0")
        await rig.advance(3)
        await rig.step()  # an entry resting at 99.3, placed at START + 8 s
        strategy = grid(rig)
        assert (strategy.realized_pnl, strategy.trades, len(strategy.lots)) == (TP_1_PNL, 1, 1)
        assert strategy.entry_id is not None
        saved = json.loads(json.dumps(strategy.state(), default=str))
        fresh = GridStrategy(rig.context, strategy.params)
        fresh.restore(saved)
        assert fresh.lots == strategy.lots
        assert fresh.last_entry_at == strategy.last_entry_at == rig.venues.clock.now()
        assert fresh.realized_pnl == TP_1_PNL
        assert (fresh.trades, fresh.entry_id, fresh.stopped) == (1, strategy.entry_id, False)
        assert fresh.state() == strategy.state()


# --- short grid -----------------------------------------------------------------------------


async def test_short_grid_sells_inside_the_ask_and_takes_profit_below(
    db_sessions: Sessions,
) -> None:
    async with strategy_rig(db_sessions, grid_config(direction="sell")) as rig:
        await rig.step()
        [row] = await rig.orders(purpose="grid_entry")
        # ask 100.0 - 1 tick = 99.9; 50 / 99.9 = 0.5005 -> 0.50
        assert (row.side, row.price, row.size, row.post_only, row.status) == (
            "sell",
            D("99.9"),
            D("0.50"),
            True,
            "open",
        )
        await fill_entry(rig)  # a buy taker at 100.0 goes through 99.9
        assert await position(rig) == D("-0.50")
        [tp] = await rig.orders(purpose="grid_tp")
        # 99.9 x (1 - 0.005) = 99.4005 -> 99.4 (rounded down, away from the entry)
        assert (tp.side, tp.price, tp.size, tp.reduce_only, tp.status) == (
            "buy",
            D("99.4"),
            D("0.50"),
            True,
            "open",
        )
        [order] = take_profits(rig)
        await trade_through(rig, order)  # a sell taker at 99.3
        await rig.step()
        # (99.9 - 99.4) x 0.50 - 99.4 x 0.50 x 0.0002 - 99.9 x 0.50 x 0.0002
        # = 0.25 - 0.00994 - 0.00999
        assert grid(rig).realized_pnl == D("0.23007")
        assert rig.context.risk.state()["trades"]["wins"] == 1
        assert grid(rig).lots == {}
        assert await position(rig) == 0
