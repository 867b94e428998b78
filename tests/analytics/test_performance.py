"""analyse() and daily() on one small book worked out by hand.

Venue ``a``: buy 1 BTC @ 100 (fee 0.1) at 00:00 day 0, sell 1 @ 110 (fee 0.11) at 12:00 ->
win, gross 10, fees 0.21, net 9.79, held 12 h. Venue ``b``: sell 2 ETH @ 50 (fee 0.1) at
00:00 day 1, buy 2 @ 55 (fee 0.1) at 06:00 -> loss, gross -10, fees 0.2, net -10.2, held 6 h.
Venue ``a``: buy 1 ETH @ 60 (fee 0.06) at 12:00 day 1, still open, marked at 66 -> +6.
Funding: +0.5 on a/BTC (08:00 day 0), -0.3 on b/ETH (03:00 day 1). Equity 1000 at day 0
00:00 and 1005 at day 2 00:00: the window is 48 h.

Totals: trading 0, unrealized 6, fees 0.47, funding 0.2, net 5.73. Turnover 480. Exposure:
12 h + 6 h + 12 h = 30 h of 48 = 0.625.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from analytics.daily import daily
from analytics.performance import analyse
from analytics.records import EquityPoint, FillRecord, FundingRecord

T0 = datetime(2026, 4, 1, tzinfo=UTC)


def at(hours: int) -> datetime:
    return T0 + timedelta(hours=hours)


FILLS = [
    FillRecord(at(0), "a", "BTC", "buy", D("100"), D("1"), D("0.1")),
    FillRecord(at(12), "a", "BTC", "sell", D("110"), D("1"), D("0.11")),
    FillRecord(at(24), "b", "ETH", "sell", D("50"), D("2"), D("0.1")),
    FillRecord(at(30), "b", "ETH", "buy", D("55"), D("2"), D("0.1")),
    FillRecord(at(36), "a", "ETH", "buy", D("60"), D("1"), D("0.06")),
]
FUNDING = [
    FundingRecord(at(8), "a", "BTC", D("0.5")),
    FundingRecord(at(27), "b", "ETH", D("-0.3")),
]
EQUITY = [EquityPoint(at(0), D("1000")), EquityPoint(at(48), D("1005"))]
MARKS = {("a", "ETH"): D("66")}


def test_attribution_and_trade_statistics() -> None:
    perf = analyse(FILLS, FUNDING, EQUITY, marks=MARKS)
    a = perf.attribution
    assert (a.trading, a.unrealized, a.fees, a.funding, a.net) == (
        D("0"),
        D("6"),
        D("0.47"),
        D("0.2"),
        D("5.73"),
    )
    t = perf.trades
    assert (t.trades, t.wins, t.losses, t.gross_profit, t.gross_loss) == (
        2,
        1,
        1,
        D("9.79"),
        D("10.2"),
    )
    assert t.win_rate == 0.5
    assert t.profit_factor == pytest.approx(9.79 / 10.2)
    assert t.expectancy == D("-0.205")
    assert t.average_hold == timedelta(hours=9)
    assert perf.turnover == D("480")
    assert perf.exposure == pytest.approx(0.625)
    assert perf.turnover_ratio == pytest.approx(480 / 1002.5)
    assert (perf.start, perf.end, perf.fills) == (at(0), at(48), 5)
    assert [lot.symbol for lot in perf.open_lots] == ["ETH"]


def test_equity_statistics_and_sampling_note() -> None:
    """Daily samples 1000 (start), 1000 (day 1, carried), 1005 -> returns 0, 0.005: Sharpe
    = 0.0025 / (0.005 / sqrt 2) * sqrt 365 = sqrt(365 / 2); no losing day -> no Sortino."""
    perf = analyse(FILLS, FUNDING, EQUITY, marks=MARKS)
    assert perf.total_return == pytest.approx(0.005)
    assert perf.sharpe == pytest.approx(math.sqrt(365 / 2))
    assert perf.sortino is None
    assert perf.notes["sortino"] == "no losing daily return"
    assert (perf.starting_equity, perf.ending_equity, perf.max_drawdown) == (
        D("1000"),
        D("1005"),
        D("0"),
    )
    assert perf.sampling == (
        "equity sampled every 1 day (UTC-aligned), simple returns, risk-free rate 0, "
        "annualised x sqrt(365 days / 1 day) = 19.10"
    )
    assert analyse([], period=timedelta(hours=4)).sampling.endswith("sqrt(365 days / 4 h) = 46.80")


def test_per_venue_and_per_symbol_add_up() -> None:
    perf = analyse(FILLS, FUNDING, EQUITY, marks=MARKS)
    venue_a, venue_b = perf.per_venue["a"], perf.per_venue["b"]
    assert venue_a.attribution.net == D("16.23")
    assert venue_b.attribution.net == D("-10.5")
    assert venue_a.exposure == pytest.approx(0.5)
    assert venue_b.exposure == pytest.approx(6 / 48)
    assert (venue_a.fills, venue_a.turnover, venue_b.turnover) == (3, D("270"), D("210"))
    btc, eth = perf.per_symbol["BTC"], perf.per_symbol["ETH"]
    assert btc.attribution.net == D("10.29")
    assert eth.attribution.net == D("-4.56")
    assert btc.exposure == pytest.approx(0.25)
    assert eth.exposure == pytest.approx(18 / 48)
    assert eth.trades.win_rate == 0.0
    assert btc.trades.notes["profit_factor"] == "no losing trades"
    assert sum(v.attribution.net for v in perf.per_venue.values()) == perf.attribution.net
    assert sum(s.attribution.net for s in perf.per_symbol.values()) == perf.attribution.net


def test_daily_pnl_adds_up_to_the_realised_attribution() -> None:
    """Day 0: trading 10, fees 0.21, funding 0.5 -> 10.29, 1 trade, 2 fills. Day 1: trading
    -10, fees 0.26, funding -0.3 -> -10.56, 1 trade, 3 fills."""
    days = daily(FILLS, FUNDING)
    assert [
        (d.day.isoformat(), d.trading, d.fees, d.funding, d.net, d.trades, d.fills) for d in days
    ] == [
        ("2026-04-01", D("10"), D("0.21"), D("0.5"), D("10.29"), 1, 2),
        ("2026-04-02", D("-10"), D("0.26"), D("-0.3"), D("-10.56"), 1, 3),
    ]
    perf = analyse(FILLS, FUNDING)
    realised = perf.attribution.trading - perf.attribution.fees + perf.attribution.funding
    assert sum(d.net for d in days) == realised


def test_nothing_at_all_gives_defined_values() -> None:
    perf = analyse([])
    assert perf.attribution.net == D(0)
    assert (perf.trades.trades, perf.trades.win_rate, perf.trades.expectancy) == (0, None, None)
    assert perf.trades.notes == {
        "win_rate": "no closed trades",
        "profit_factor": "no closed trades",
        "expectancy": "no closed trades",
        "average_hold": "no closed trades",
    }
    assert (perf.total_return, perf.sharpe, perf.sortino, perf.exposure) == (None,) * 4
    assert perf.notes["total_return"] == "fewer than two equity points"
    assert perf.notes["turnover_ratio"] == "no equity points"
    assert perf.notes["exposure"] == "the window has no length"
    assert (perf.per_symbol, perf.per_venue, perf.start) == ({}, {}, None)
    assert daily([]) == []


def test_one_equity_point_and_all_wins() -> None:
    fills = [
        FillRecord(at(0), "a", "BTC", "buy", D("100"), D("1")),
        FillRecord(at(1), "a", "BTC", "sell", D("101"), D("1")),
        FillRecord(at(2), "a", "BTC", "sell", D("105"), D("2")),
        FillRecord(at(3), "a", "BTC", "buy", D("100"), D("2")),
    ]
    perf = analyse(fills, equity=[EquityPoint(at(0), D("500"))])
    assert perf.trades.win_rate == 1.0
    assert perf.trades.profit_factor is None
    assert perf.notes.get("profit_factor") is None  # a trade-level note, kept with the trades
    assert perf.trades.notes["profit_factor"] == "no losing trades"
    assert perf.trades.expectancy == D("5.5")  # (1 + 10) / 2
    assert perf.total_return is None
    assert perf.max_drawdown == D(0)
    assert perf.notes["max_drawdown"] == "fewer than two equity points"  # 0 says nothing here
    assert perf.exposure == pytest.approx(2 / 3)  # 0-1 h and 2-3 h of 0-3 h


def test_no_output_is_ever_nan() -> None:
    """A flat zero-equity curve and a zero-fee book: every float is a number or None."""
    flat = [EquityPoint(at(h), D("0")) for h in range(3)]
    perf = analyse(FILLS, equity=flat)
    for value in (perf.total_return, perf.sharpe, perf.sortino, perf.max_drawdown_pct,
                  perf.turnover_ratio, perf.exposure):  # fmt: skip
        assert value is None or math.isfinite(value)
    assert perf.notes["max_drawdown_pct"] == "no positive equity peak"
