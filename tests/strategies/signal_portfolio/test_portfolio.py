"""The signal portfolio end to end on real parts: signals recorded, entries sized and gated,
exits, reversal, mark to market - on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

from execution.order_executor import ExecutionMode, ExecutionRequest
from strategies.signal_portfolio.signals.types import Direction
from testing.fakes.hyperliquid import FakeHyperliquid
from tests.strategies.rig import StrategyRig
from tests.strategies.signal_portfolio.helpers import (
    HOT_FUNDING,
    Sessions,
    book,
    portfolio,
    running,
    signals,
    trades,
)

D = Decimal


async def test_a_signal_opens_a_sized_position_and_every_evaluation_is_recorded(
    db_sessions: Sessions,
) -> None:
    async with FakeHyperliquid() as fake:
        fake.market("BTC").funding = HOT_FUNDING
        async with running(db_sessions, fake) as rig:
            await rig.step()
            position = await rig.context.clients["paper"].position("BTC")
            assert position is not None
            assert position.size == D("-1.00")  # 5 USD at risk / (99.75 x 5 %) -> 1.00
            holding = portfolio(rig).holdings["BTC"]
            assert holding.direction is Direction.SHORT
            assert holding.entry_price == D("99.5")
            assert holding.stop_price == D("104.475")
            assert holding.take_profit_price == D("95.520")
    rows = await signals(db_sessions)
    assert [(r.strategy, r.direction, r.acted_on, r.reason) for r in rows] == [
        ("funding_rate", "SHORT", True, None),
        ("rsi_mean_reversion", None, False, "no signal"),  # no candles yet: a pass
    ]
    assert rows[0].confidence == D("0.75")
    assert rows[0].entry_price == D("99.75")
    assert rows[0].details == {"funding_pct": "0.1800"}
    [trade] = await trades(db_sessions)
    assert (trade.strategy, trade.direction, trade.status) == ("funding_rate", "SHORT", "open")
    assert trade.signal_id == rows[0].id
    assert trade.size == D("1.00")
    entry_orders = await rig.orders(purpose="signal_entry")
    assert len(entry_orders) == 1


async def test_a_held_asset_refuses_the_same_direction_and_low_confidence_is_refused(
    db_sessions: Sessions,
) -> None:
    async with FakeHyperliquid() as fake:
        fake.market("BTC").funding = HOT_FUNDING
        async with running(
            db_sessions, fake, min_confidence=D("0.8"), full_size_confidence=D("0.9")
        ) as rig:
            await rig.step()
            assert portfolio(rig).holdings == {}
        async with running(
            db_sessions, fake, signals={"funding_rate": {}, "funding_carry": {}}
        ) as rig:
            await rig.step()
    rows = [r for r in await signals(db_sessions) if r.direction is not None]
    assert [(r.strategy, r.acted_on, r.reason) for r in rows] == [
        ("funding_rate", False, "confidence 0.75 below min_confidence 0.8"),
        ("funding_rate", True, None),
        ("funding_carry", False, "BTC already SHORT (opened by funding_rate)"),
    ]


async def test_stop_loss_books_the_loss_to_its_strategy_and_the_cooldown_refuses_the_next(
    db_sessions: Sessions,
) -> None:
    async with FakeHyperliquid() as fake:
        fake.market("BTC").funding = HOT_FUNDING
        async with running(db_sessions, fake, risk={"loss_cooldown_minutes": 30}) as rig:
            await rig.step()
            await book(rig, "105.0", "105.5")  # mid 105.25 >= stop 104.475
            await rig.advance(1)
            await rig.step()
            strategy = portfolio(rig)
            assert "BTC" not in strategy.holdings or strategy.holdings["BTC"].trade_id is None
            position = await rig.context.clients["paper"].position("BTC")
            assert position is None or position.size == 0
            # (99.5 - 105.5) x 1.00 - fees (taker 0.05 % both ways)
            loss = D("-6.00") - D("99.5") * D("0.0005") - D("105.5") * D("0.0005")
            assert strategy.realized_by_strategy == {"funding_rate": loss}
            assert strategy.realized_by_asset == {"BTC": loss}
            assert strategy.records["funding_rate"].losses == 1
    [trade] = await trades(db_sessions)
    assert (trade.status, trade.exit_reason, trade.exit_price) == (
        "closed",
        "stop_loss",
        D("105.5"),
    )
    assert trade.realized_pnl == loss
    rows = [r for r in await signals(db_sessions) if r.strategy == "funding_rate"]
    assert rows[-1].acted_on is False
    assert rows[-1].reason is not None
    assert rows[-1].reason.startswith("risk paused: losing trade at")


async def test_take_profit_and_timeout_close_and_marks_update_the_open_trade(
    db_sessions: Sessions,
) -> None:
    async with FakeHyperliquid() as fake:
        fake.market("BTC").funding = HOT_FUNDING
        async with running(
            db_sessions, fake, timeout_minutes=2, mark_to_market_seconds=D(30)
        ) as rig:
            await rig.step()
            await book(rig, "97.0", "97.5")  # mid 97.25: in profit, not yet the target
            await rig.advance(30)
            await rig.step()
            [trade] = await trades(db_sessions)
            assert trade.mark_price == D("97.25")
            assert trade.unrealized_pnl == D("2.25")  # (99.5 - 97.25) x 1.00
            assert portfolio(rig).describe()["unrealized_by_strategy"] == {
                "funding_rate": D("2.25")
            }
            fake.market("BTC").funding = D(0)  # no new entry after the exit
            await rig.advance(91)
            await rig.step()  # 2 minutes old: timeout
            assert "BTC" not in portfolio(rig).holdings
    [trade] = await trades(db_sessions)
    assert (trade.exit_reason, trade.exit_price) == ("timeout", D("97.5"))


async def test_an_opposite_signal_reverses_the_position(db_sessions: Sessions) -> None:
    async with FakeHyperliquid() as fake:
        fake.market("BTC").funding = HOT_FUNDING
        async with running(db_sessions, fake, funding_poll_seconds=D(1)) as rig:
            await rig.step()
            fake.market("BTC").funding = -HOT_FUNDING
            await rig.advance(2)
            await rig.step()
            holding = portfolio(rig).holdings["BTC"]
            assert holding.direction is Direction.LONG
            position = await rig.context.clients["paper"].position("BTC")
            assert position is not None
            assert position.size == D("1.00")
    first, second = await trades(db_sessions)
    assert (first.direction, first.status, first.exit_reason) == ("SHORT", "closed", "reversal")
    assert (second.direction, second.status) == ("LONG", "open")
    rows = [r for r in await signals(db_sessions) if r.direction is not None]
    assert rows[-1].reason == "reversed funding_rate's SHORT"
    assert rows[-1].acted_on is True


async def test_the_exposure_cap_and_the_per_strategy_cap_refuse_entries(
    db_sessions: Sessions,
) -> None:
    async with FakeHyperliquid() as fake:
        fake.market("BTC").funding = HOT_FUNDING
        async with running(db_sessions, fake, max_exposure_pct=D("0.01")) as rig:
            await rig.step()  # 0.01 % of 10,000 = 1 USD: 0.01 BTC, below the 0.02 minimum
            assert portfolio(rig).holdings == {}
        async with running(db_sessions, fake, max_exposure_pct=D("0.1")) as rig:
            await rig.step()  # 10 USD: resized from 1.00 to 0.10 BTC
            assert portfolio(rig).holdings["BTC"].size == D("0.10")
            await portfolio(rig).operator_close("paper", _closing(rig))
            assert portfolio(rig).holdings == {}
        async with running(db_sessions, fake) as rig:
            strategy = portfolio(rig)
            await rig.step()
            eth = strategy.holdings.pop("BTC")
            strategy.holdings["ETH"] = eth  # funding_rate now holds its one position elsewhere
            fake.market("BTC").funding = -HOT_FUNDING
            await rig.advance(61)
            await rig.step()
    rows = [r for r in await signals(db_sessions) if r.direction is not None]
    assert rows[0].reason == "exposure 0.00 USD at the 0.01% of equity cap (1.00 USD)"
    assert rows[-1].reason == "funding_rate holds 1 positions, max_positions_per_strategy 1"
    operator_closed = (await trades(db_sessions))[0]
    assert (operator_closed.size, operator_closed.exit_reason) == (D("0.10"), "operator")


def _closing(rig: StrategyRig) -> ExecutionRequest:
    """The operator's close of the BTC position (what the control API sends)."""
    holding = portfolio(rig).holdings["BTC"]
    return ExecutionRequest("BTC", "buy", holding.size, ExecutionMode.MARKET, reduce_only=True)
