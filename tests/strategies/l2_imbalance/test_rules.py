"""The signal and the exit rules as plain functions (the rig tests run them on the venue)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from core.errors import (
    DailyLossLimitBreached,
    DrawdownLimitBreached,
    InstrumentExposureLimitBreached,
    RiskLimitBreached,
    TradeNotionalLimitBreached,
)
from exchange_clients.types import BookSnapshot
from strategies.l2_imbalance.exits import ExitRules, due_exit
from strategies.l2_imbalance.limits import (
    EquityWatch,
    check_instrument_exposure,
    check_trade_notional,
)
from strategies.l2_imbalance.signal import entry_side, imbalance

D = Decimal
T0 = datetime(2026, 3, 2, 23, 59, tzinfo=UTC)
RULES = ExitRules(D("0.2"), D("0.15"), timedelta(seconds=60))


def test_imbalance_sums_the_top_levels_and_needs_both_sides() -> None:
    book = BookSnapshot(
        "BTC", ((D(100), D(4)), (D(99), D(2))), ((D(101), D(1)), (D(102), D(1))), T0
    )
    assert imbalance(book, 1) == D(4)
    assert imbalance(book, 2) == D(3)
    assert imbalance(BookSnapshot("BTC", book.bids, (), T0), 5) is None
    assert entry_side(None, D(3), D("0.33")) is None


def test_exits_whichever_first() -> None:
    entry = D(100)
    assert due_exit(RULES, "buy", entry, T0, D("100.19"), T0 + timedelta(seconds=59)) is None
    assert due_exit(RULES, "buy", entry, T0, D("100.2"), T0).kind == "take_profit"  # type: ignore[union-attr]
    assert due_exit(RULES, "sell", entry, T0, D("99.8"), T0).kind == "take_profit"  # type: ignore[union-attr]
    assert due_exit(RULES, "sell", entry, T0, D("100.15"), T0).kind == "stop_loss"  # type: ignore[union-attr]
    late = T0 + timedelta(seconds=60)
    assert due_exit(RULES, "buy", entry, T0, None, late).kind == "time_stop"  # type: ignore[union-attr]
    assert due_exit(RULES, "buy", entry, T0, D("99.85"), late).kind == "stop_loss"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "error",
    [
        TradeNotionalLimitBreached,
        InstrumentExposureLimitBreached,
        DailyLossLimitBreached,
        DrawdownLimitBreached,
    ],
)
def test_each_limit_is_a_distinct_risk_limit_breached(error: type[Exception]) -> None:
    assert issubclass(error, RiskLimitBreached)


def test_entry_limits() -> None:
    check_trade_notional("BTC", D(10_000), D(10_000))
    with pytest.raises(TradeNotionalLimitBreached):
        check_trade_notional("BTC", D("10000.01"), D(10_000))
    check_instrument_exposure("BTC", D(2500), D(10_000), D(25))
    with pytest.raises(InstrumentExposureLimitBreached):
        check_instrument_exposure("BTC", D("2500.01"), D(10_000), D(25))
    with pytest.raises(InstrumentExposureLimitBreached):
        check_instrument_exposure("BTC", D(1), D(0), D(25))  # no equity, no exposure


def test_equity_watch_day_rolls_at_utc_midnight_and_peak_persists() -> None:
    watch = EquityWatch(daily_loss_limit=D(10), max_drawdown=D(15))
    watch.check(D(1000), T0)
    watch.check(D(1005), T0)
    with pytest.raises(DailyLossLimitBreached):
        watch.check(D(990), T0)
    tomorrow = T0 + timedelta(minutes=2)
    watch.check(D(995), tomorrow)  # a new day starts at 995; 10 below the peak
    restored = EquityWatch(D(10), D(15))
    restored.restore(watch.state())
    with pytest.raises(DrawdownLimitBreached):
        restored.check(D(990), tomorrow)  # 5 below the day's start, 15 below the peak
