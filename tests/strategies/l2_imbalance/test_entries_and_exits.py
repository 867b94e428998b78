"""Signal thresholds, the entry, every exit and the venue-side stop, on the real paper venue
with the journal on both databases (numbers: see helpers)."""

from __future__ import annotations

import pytest

from core.errors import TimeStopReached
from execution.order_executor import ExecutionMode, ExecutionRequest
from tests.execution.atomic.rig import InstrumentedPaperClient
from tests.strategies.l2_imbalance.helpers import (
    BUY_BOOK,
    ENTRY_PRICE,
    ENTRY_SIZE,
    SELL_BOOK,
    STOP_TRIGGER,
    D,
    Sessions,
    assert_journal_is_true,
    book,
    config,
    flat,
    last_breach,
    position,
    quote,
    resting,
    rows,
    scalper,
)
from tests.strategies.rig import StrategyRig, strategy_rig

STOP = ("stop_market", "sell", ENTRY_SIZE, None, STOP_TRIGGER, True)


async def enter_long(rig: StrategyRig) -> None:
    await book(rig, BUY_BOOK)
    await rig.step()
    held = await position(rig)
    assert held is not None
    assert (held.size, held.entry_price) == (
        ENTRY_SIZE,
        ENTRY_PRICE,
    )


@pytest.mark.parametrize(
    ("bid_size", "ask_size", "side"),
    [
        ("9", "3", None),  # exactly 3.0: not above it
        ("9.03", "3", "buy"),  # 3.01
        ("3.3", "10", None),  # exactly 0.33: not below it
        ("3.2", "10", "sell"),  # 0.32
    ],
)
async def test_signal_thresholds(
    db_sessions: Sessions, bid_size: str, ask_size: str, side: str | None
) -> None:
    async with strategy_rig(db_sessions, config()) as rig:
        await book(rig, ((("99.9", bid_size),), (("100.0", ask_size),)))
        await rig.step()
        found = await rows(rig, purpose="l2_entry")
        assert [row.side for row in found] == ([side] if side else [])


async def test_thresholds_are_parameters(db_sessions: Sessions) -> None:
    """ratio 3.33: no buy above 4; ratio 0.3: a sell below 0.31 only."""
    async with strategy_rig(db_sessions, config(buy_ratio=D(4))) as rig:
        await book(rig, BUY_BOOK)
        await rig.step()
        assert await rows(rig, purpose="l2_entry") == []
    async with strategy_rig(db_sessions, config(sell_ratio=D("0.31"))) as rig:
        await book(rig, SELL_BOOK)
        await rig.step()
        [row] = await rows(rig, purpose="l2_entry")
        assert (row.side, row.size, row.status) == ("sell", ENTRY_SIZE, "filled")


async def test_only_the_top_depth_levels_count(db_sessions: Sessions) -> None:
    """Level 2 holds 40 on the ask: over 5 levels the ratio is 10 / 43, over 1 it is 10 / 3."""
    deep = ((("99.9", "10"),), (("100.0", "3"), ("100.1", "40")))
    async with strategy_rig(db_sessions, config()) as rig:
        await book(rig, deep)
        await rig.step()
        [row] = await rows(rig, purpose="l2_entry")
        assert row.side == "sell"  # 10 / 43 = 0.23
    async with strategy_rig(db_sessions, config(depth_levels=1)) as rig:
        await book(rig, deep)
        await rig.step()
        [row] = await rows(rig, purpose="l2_entry")
        assert row.side == "buy"


async def test_market_entry_rests_the_venue_stop_and_is_journaled(
    db_sessions: Sessions,
) -> None:
    async with strategy_rig(db_sessions, config()) as rig:
        await enter_long(rig)
        [entry] = await rows(rig, purpose="l2_entry")
        assert (
            entry.side,
            entry.size,
            entry.filled_size,
            entry.status,
            entry.reduce_only,
        ) == (
            "buy",
            ENTRY_SIZE,
            ENTRY_SIZE,
            "filled",
            False,
        )
        assert await resting(rig) == [STOP]
        [stop] = await rows(rig, purpose="l2_stop")
        assert (stop.trigger_price, stop.status) == (STOP_TRIGGER, "open")
        await assert_journal_is_true(rig)


async def test_one_position_per_instrument(db_sessions: Sessions) -> None:
    async with strategy_rig(db_sessions, config()) as rig:
        await enter_long(rig)
        await book(rig, ((("99.9", "12"),), (("100.0", "3"),)))  # the signal again
        await rig.step(3)
        assert len(await rows(rig, purpose="l2_entry")) == 1
        held = await position(rig)
        assert held is not None
        assert held.size == ENTRY_SIZE


async def test_take_profit(db_sessions: Sessions) -> None:
    async with strategy_rig(db_sessions, config()) as rig:
        await enter_long(rig)
        await quote(rig, "100.1", "100.2")  # mid 100.15: +0.15 %, not yet
        await rig.step()
        assert await rows(rig, purpose="l2_exit") == []
        await quote(rig, "100.2", "100.3")  # mid 100.25: +0.25 %
        await rig.step()
        [exit_row] = await rows(rig, purpose="l2_exit")
        assert (
            exit_row.side,
            exit_row.size,
            exit_row.reduce_only,
            exit_row.status,
        ) == (
            "sell",
            ENTRY_SIZE,
            True,
            "filled",
        )
        assert await position(rig) is None
        assert await resting(rig) == []  # the venue stop went with it
        # (100.2 - 100.0) x 1 - entry fee 0.05 - exit fee 100.2 x 0.0005 = 0.0999
        assert scalper(rig).realized_pnl == D("0.0999")
        await assert_journal_is_true(rig)


async def test_take_profit_is_a_parameter(db_sessions: Sessions) -> None:
    async with strategy_rig(db_sessions, config(take_profit_pct=D("0.1"))) as rig:
        await enter_long(rig)
        await quote(rig, "100.1", "100.2")  # +0.15 % >= 0.1 %
        await rig.step()
        assert len(await rows(rig, purpose="l2_exit")) == 1


async def test_stop_loss(db_sessions: Sessions) -> None:
    async with strategy_rig(db_sessions, config()) as rig:
        await enter_long(rig)
        await quote(rig, "99.9", "100.0")  # mid 99.95: -0.05 %
        await rig.step()
        assert await rows(rig, purpose="l2_exit") == []
        await quote(rig, "99.8", "99.9")  # mid 99.85: -0.15 %, the stop at 99.8 not reached
        await rig.step()
        [exit_row] = await rows(rig, purpose="l2_exit")
        assert (exit_row.side, exit_row.status) == ("sell", "filled")
        assert await position(rig) is None
        assert await resting(rig) == []
        # (99.8 - 100.0) - 0.05 - 99.8 x 0.0005 = -0.2999
        assert scalper(rig).realized_pnl == D("-0.2999")


async def test_stop_loss_is_a_parameter(db_sessions: Sessions) -> None:
    async with strategy_rig(db_sessions, config(stop_loss_pct=D("0.05"))) as rig:
        await enter_long(rig)
        assert await resting(rig) == [("stop_market", "sell", ENTRY_SIZE, None, D("99.9"), True)]
        await quote(rig, "99.9", "100.0")  # mid 99.95: -0.05 %
        await rig.step()
        assert len(await rows(rig, purpose="l2_exit")) == 1


async def test_time_stop_in_seconds(db_sessions: Sessions) -> None:
    async with strategy_rig(db_sessions, config()) as rig:
        await enter_long(rig)
        await rig.advance(59)
        await rig.step()
        assert await rows(rig, purpose="l2_exit") == []
        await rig.advance(1)
        await rig.step()
        [exit_row] = await rows(rig, purpose="l2_exit")
        assert exit_row.status == "filled"
        assert await position(rig) is None
        assert isinstance(last_breach(rig), TimeStopReached)
        assert "held 60 s" in str(last_breach(rig))


async def test_time_stop_is_a_parameter(db_sessions: Sessions) -> None:
    async with strategy_rig(db_sessions, config(time_stop_seconds=D(10))) as rig:
        await enter_long(rig)
        await rig.advance(10)
        await rig.step()
        assert len(await rows(rig, purpose="l2_exit")) == 1


async def test_the_venue_stop_fires_and_is_booked(db_sessions: Sessions) -> None:
    """The mark falls through 99.8 between two steps (a dead bot would see the same)."""
    async with strategy_rig(db_sessions, config()) as rig:
        await enter_long(rig)
        await quote(rig, "99.6", "99.7")  # mark 99.65 < 99.8: the venue stop fires
        await flat(rig)
        await rig.step()
        assert scalper(rig).trades == {}
        [stop] = await rows(rig, purpose="l2_stop")
        assert (stop.status, stop.filled_size) == ("filled", ENTRY_SIZE)
        assert await rows(rig, purpose="l2_exit") == []
        assert scalper(rig).closed_trades == 1
        assert scalper(rig).realized_pnl < 0
        await assert_journal_is_true(rig)


async def test_no_venue_stop_without_trigger_orders(
    db_sessions: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A venue without trigger orders: the bot-side stop alone (and still acts)."""
    monkeypatch.setattr(InstrumentedPaperClient, "supports_trigger_orders", False)
    async with strategy_rig(db_sessions, config()) as rig:
        await enter_long(rig)
        assert await resting(rig) == []
        await quote(rig, "99.8", "99.9")
        await rig.step()
        assert await position(rig) is None


async def test_a_position_opened_elsewhere_is_adopted_never_added_to(db_sessions: Sessions) -> None:
    async with strategy_rig(db_sessions, config()) as rig:
        await rig.context.executors["paper"].execute(
            ExecutionRequest("BTC", "buy", D("0.5"), ExecutionMode.MARKET, purpose="by_hand")
        )
        await book(rig, BUY_BOOK)  # the signal: but BTC is held already
        await rig.step()
        assert await rows(rig, purpose="l2_entry") == []
        trade = scalper(rig).trades["BTC"]
        assert (trade.side, trade.size, trade.entry_price) == ("buy", D("0.5"), ENTRY_PRICE)
        assert await resting(rig) == [("stop_market", "sell", D("0.5"), None, STOP_TRIGGER, True)]
        await rig.advance(60)
        await rig.step()  # its exits apply: the time stop
        assert await position(rig) is None
