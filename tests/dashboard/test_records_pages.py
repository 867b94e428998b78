"""Signals, signal strategies in the comparison, and backtest runs with their report, from
the tables the signal_portfolio bots and ``python -m backtest --store`` write."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from database.models.backtest import BacktestEquityPoint, BacktestRun, BacktestTrade
from database.models.signals import SignalRecord, SignalTrade
from tests.dashboard.conftest import Dashboard

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def _signal(bot: str, strategy: str, minutes: int, acted: bool) -> SignalRecord:
    return SignalRecord(
        bot=bot,
        strategy=strategy,
        asset="BTC",
        venue="hyperliquid",
        direction="long",
        confidence=Decimal("0.7"),
        entry_price=Decimal("64000.5"),
        details={},
        ts=T0 + timedelta(minutes=minutes),
        acted_on=acted,
        reason=None if acted else "cooldown",
    )


def _trade(strategy: str, status: str, realized: str | None) -> SignalTrade:
    return SignalTrade(
        bot="sig-1",
        strategy=strategy,
        asset="BTC",
        venue="hyperliquid",
        direction="long",
        size=Decimal("0.01"),
        entry_price=Decimal(64000),
        stop_price=Decimal(63000),
        take_profit_price=Decimal(66000),
        entry_fee=Decimal("0.2"),
        opened_at=T0,
        status=status,
        realized_pnl=None if realized is None else Decimal(realized),
    )


async def test_signals_feed_and_signal_strategies_compared(dashboard: Dashboard) -> None:
    async with dashboard.sessions() as session, session.begin():
        session.add_all(
            [_signal("sig-1", "momentum_breakout", 1, True), _signal("sig-2", "rsi", 2, False)]
        )
        session.add_all(
            [
                _trade("momentum_breakout", "closed", "12.5"),
                _trade("momentum_breakout", "closed", "-2.5"),
                _trade("momentum_breakout", "open", None),
                _trade("rsi", "closed", "-1"),
            ]
        )
    client = await dashboard.client("vic")
    page = (await client.get("/signals")).text
    assert page.index("rsi") < page.index("momentum_breakout")  # newest first
    assert "cooldown" in page
    only = (await client.get("/signals", params={"bot": "sig-1"})).text
    assert "momentum_breakout" in only
    assert "cooldown" not in only
    compare = (await client.get("/compare")).text.split("Signal strategies")[1]
    row = compare.split("<td>momentum_breakout</td>")[1].split("</tr>")[0]
    assert "<td>2</td>" in row  # closed trades
    assert "50.00%" in row  # win rate
    assert "+10.00" in row  # net
    assert "5.00" in row  # expectancy


async def test_backtest_runs_and_a_report(dashboard: Dashboard) -> None:
    async with dashboard.sessions() as session, session.begin():
        run = BacktestRun(
            bot_name="bt-grid",
            strategy="grid",
            params={"grid_step": "0.25"},
            period_start=T0,
            period_end=T0 + timedelta(days=2),
            data=["paper:BTC"],
            realism={},
            metrics={"sharpe": 1.5, "trades": 3},
            net_pnl=Decimal("42.125"),
            result_hash="ab" * 32,
            stopped_by=None,
            sweep=None,
            split=None,
        )
        session.add(run)
        await session.flush()
        session.add_all(
            [
                BacktestEquityPoint(run_id=run.id, ts=T0 + timedelta(hours=h), equity=Decimal(e))
                for h, e in enumerate(["10000", "10010", "9990", "10042.125"])
            ]
        )
        session.add(
            BacktestTrade(
                run_id=run.id,
                ts=T0,
                kind="fill",
                venue="paper",
                symbol="BTC",
                side="buy",
                price=Decimal("64000.5"),
                size=Decimal("0.01"),
                fee=Decimal("0.32"),
            )
        )
        run_id = run.id
    client = await dashboard.client("vic")
    listing = (await client.get("/backtests")).text
    assert f'href="/backtests/{run_id}"' in listing
    assert "+42.12" in listing or "+42.13" in listing
    report = (await client.get(f"/backtests/{run_id}")).text
    assert 'aria-label="equity curve"' in report
    assert 'aria-label="drawdown"' in report
    assert "<td>sharpe</td><td>1.5</td>" in report
    assert "64000.5" in report
    assert (await client.get("/backtests/999999")).status_code == 404
