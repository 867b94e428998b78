"""Each hard limit with its own error type, on the real paper venue and both databases.

The kill-switch limits (daily loss, drawdown from the peak) cancel, flatten and stop: the venue
is flat, no order rests, the risk manager's kill switch is engaged (the pre-trade gate refuses
new exposure, ``fleet reset-kill`` applies) and the strategy asked the runtime to stop. The
stop-loss and take-profit are set wide here so only the limit under test acts.
"""

from __future__ import annotations

from typing import Any

import pytest

from core.errors import (
    DailyLossLimitBreached,
    DrawdownLimitBreached,
    InstrumentExposureLimitBreached,
    KillSwitchEngaged,
    RiskLimitBreached,
    TradeNotionalLimitBreached,
)
from strategies.risk_gate import RiskGate
from tests.exchange_clients.paper.helpers import market as market_order
from tests.strategies.l2_imbalance.helpers import (
    BUY_BOOK,
    ENTRY_SIZE,
    D,
    Sessions,
    assert_journal_is_true,
    book,
    config,
    last_breach,
    position,
    quote,
    resting,
    rows,
    scalper,
)
from tests.strategies.rig import StrategyRig, strategy_rig

WIDE: dict[str, Any] = {"take_profit_pct": D(5), "stop_loss_pct": D(5)}  # only the limits act


async def test_max_notional_per_trade_at_the_prices_the_book_fills(
    db_sessions: Sessions,
) -> None:
    """300 USD at mid 99.95 is 3.00 BTC; the asks hold 1 @ 100.0 and 2 @ 100.5: buying it
    costs 100 + 201 = 301 USD > the 300 USD cap."""
    thin = ((("99.9", "20"),), (("100.0", "1"), ("100.5", "2")))
    over: dict[str, Any] = {"order_notional_usd": D(300), "max_trade_notional_usd": D(300)}
    async with strategy_rig(db_sessions, config(**over)) as rig:
        await book(rig, thin)
        await rig.step()
        assert await rows(rig) == []
        breach = last_breach(rig)
        assert isinstance(breach, TradeNotionalLimitBreached)
        assert str(breach) == ("BTC entry of 301.00 USD is above max_trade_notional_usd 300 USD")
    async with strategy_rig(
        db_sessions, config(**{**over, "max_trade_notional_usd": D(302)})
    ) as rig:
        await book(rig, thin)
        await rig.step()
        [row] = await rows(rig, purpose="l2_entry")
        assert row.filled_size == D(3)


async def test_per_instrument_exposure_share_of_equity(db_sessions: Sessions) -> None:
    """1 % of the 10,000 USD equity is 100 USD; an entry of 1.50 BTC at 100.0 is 150 USD."""
    async with strategy_rig(
        db_sessions, config(order_notional_usd=D(150), max_instrument_exposure_pct=D(1))
    ) as rig:
        await book(rig, BUY_BOOK)
        await rig.step()
        assert await rows(rig) == []
        breach = last_breach(rig)
        assert isinstance(breach, InstrumentExposureLimitBreached)
        assert "above max_instrument_exposure_pct 1% of equity 10000.00 USD (100.00 USD)" in str(
            breach
        )
    async with strategy_rig(db_sessions, config(order_notional_usd=D(150))) as rig:  # 25 %
        await book(rig, BUY_BOOK)
        await rig.step()
        assert len(await rows(rig, purpose="l2_entry")) == 1


async def assert_killed(rig: StrategyRig, error: type[RiskLimitBreached]) -> None:
    strategy = scalper(rig)
    assert isinstance(last_breach(rig), error)
    assert await position(rig) is None  # flattened
    assert await resting(rig) == []  # the venue stop cancelled
    assert rig.context.stop_requested.is_set()  # the runtime stops the bot
    assert not await strategy.should_execute()
    assert rig.context.risk.killed
    assert error.__name__ in str(rig.context.risk.state()["kill"]["reason"])
    [kill] = await rows(rig, purpose="l2_kill")
    assert (kill.side, kill.size, kill.reduce_only, kill.status) == (
        "sell",
        ENTRY_SIZE,
        True,
        "filled",
    )
    [stop] = await rows(rig, purpose="l2_stop")
    assert stop.status == "cancelled"
    await assert_journal_is_true(rig)
    # The runtime's pre-trade gate now refuses new exposure, whoever asks.
    gate = RiskGate(rig.context.risk, rig.context.clients)
    client = rig.context.clients["paper"]
    with pytest.raises(KillSwitchEngaged):
        await gate.check(client, market_order("buy", "1", "after-the-kill"))


async def enter(rig: StrategyRig) -> None:
    await quote(rig, "99.9", "100.0")
    await rig.step()  # the day's starting equity: 10,000
    await book(rig, BUY_BOOK)
    await rig.step()
    held = await position(rig)
    assert held is not None
    assert held.size == ENTRY_SIZE


async def test_daily_loss_limit_trips_the_kill_switch(db_sessions: Sessions) -> None:
    """Entry fee 0.05; mid 98.95 marks the long 1.05 below: equity 9998.90, 1.10 lost today."""
    limits: dict[str, Any] = {
        "daily_loss_limit_usd": D("1.1"),
        "max_drawdown_usd": D(50),
    }
    async with strategy_rig(db_sessions, config(**WIDE, **limits)) as rig:
        await enter(rig)
        await quote(rig, "98.9", "99.0")  # mid 98.95
        await rig.step()
        await assert_killed(rig, DailyLossLimitBreached)
        assert "1.10 USD below the day's start 10000.00 USD" in str(last_breach(rig))


async def test_daily_loss_below_the_limit_trades_on(db_sessions: Sessions) -> None:
    limits: dict[str, Any] = {
        "daily_loss_limit_usd": D("1.2"),
        "max_drawdown_usd": D(50),
    }
    async with strategy_rig(db_sessions, config(**WIDE, **limits)) as rig:
        await enter(rig)
        await quote(rig, "98.9", "99.0")
        await rig.step()
        assert not rig.context.stop_requested.is_set()
        assert await position(rig) is not None


async def test_drawdown_from_peak_equity_trips_the_kill_switch(
    db_sessions: Sessions,
) -> None:
    """Mid 102.05 marks the long +2.05: peak 10002.00 (after the 0.05 fee); back to mid 99.95
    the equity is 9999.90, 2.10 below the peak and only 0.10 below the day's start."""
    limits: dict[str, Any] = {
        "daily_loss_limit_usd": D(100),
        "max_drawdown_usd": D("2.1"),
    }
    async with strategy_rig(db_sessions, config(**WIDE, **limits)) as rig:
        await enter(rig)
        await quote(rig, "102.0", "102.1")
        await rig.step()
        assert not rig.context.stop_requested.is_set()
        await quote(rig, "99.9", "100.0")
        await rig.step()
        await assert_killed(rig, DrawdownLimitBreached)
        assert "2.10 USD below its peak 10002.00 USD" in str(last_breach(rig))
