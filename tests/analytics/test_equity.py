"""Equity-curve statistics against values worked out by hand (in each docstring)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from analytics import equity as eq
from analytics.records import EquityPoint

DAY0 = datetime(2026, 3, 2, tzinfo=UTC)


def curve(*values: str, step: timedelta = timedelta(days=1)) -> list[EquityPoint]:
    return [EquityPoint(DAY0 + i * step, D(v)) for i, v in enumerate(values)]


def test_daily_returns_sharpe_and_sortino() -> None:
    """Midnight points 1000, 1100, 990, 1089: daily returns +0.1, -0.1, +0.1 (no flat first
    day). mean 1/30, sample variance 1/75 -> Sharpe = (1/30)*sqrt(75)*sqrt(365) =
    sqrt(365/12); downside deviation sqrt(0.01/3) -> Sortino = sqrt(365/3)."""
    points = curve("1000", "1100", "990", "1089")
    assert eq.sample(points) == [D("1000"), D("1100"), D("990"), D("1089")]
    assert eq.period_returns(points) == pytest.approx([0.1, -0.1, 0.1])
    assert eq.sharpe(points) == pytest.approx(math.sqrt(365 / 12))
    assert eq.sortino(points) == pytest.approx(math.sqrt(365 / 3))
    assert eq.total_return(points) == pytest.approx(0.089)


def test_intraday_points_keep_the_last_of_each_day_and_carry_through_gaps() -> None:
    """1000 at 00:00, 1050 at 06:00, 1020 at 23:00 (day 0: 1020); nothing on day 1 (carried:
    1020); 1122 on day 2. Samples 1000, 1020, 1020, 1122."""
    points = [
        EquityPoint(DAY0, D("1000")),
        EquityPoint(DAY0 + timedelta(hours=6), D("1050")),
        EquityPoint(DAY0 + timedelta(hours=23), D("1020")),
        EquityPoint(DAY0 + timedelta(days=2, hours=1), D("1122")),
    ]
    assert eq.sample(points) == [D("1000"), D("1020"), D("1020"), D("1122")]


def test_hourly_sampling_changes_the_annualisation() -> None:
    """Hourly: the factor is sqrt(8760)."""
    points = curve("100", "110", "99", "108.9", step=timedelta(hours=1))
    assert eq.annualisation(timedelta(hours=1)) == pytest.approx(math.sqrt(8760))
    assert eq.sharpe(points, timedelta(hours=1)) == pytest.approx(math.sqrt(8760 / 12))


def test_drawdown_amount_fraction_and_duration() -> None:
    """Peak 1100 (day 1), trough 990 (day 2): 110 = 10%; back at 1100 on day 4 -> 3 days
    under water, recovered. A later dip to 1155 from 1200 (day 5 -> 6, never back) is
    shallower (45, 3.75%) and shorter (1 day)."""
    points = curve("1000", "1100", "990", "1089", "1100", "1200", "1155")
    dd = eq.drawdown(points)
    assert dd.amount == D("110")
    assert dd.fraction == pytest.approx(0.1)
    assert dd.duration == timedelta(days=3)
    assert dd.recovered is True
    assert eq.drawdown_series(points)[2] == (DAY0 + timedelta(days=2), D("110"))


def test_drawdown_still_open_at_the_end() -> None:
    """Peak 100 at day 0, then 80 and 90: 20 down, 2 days, not recovered."""
    dd = eq.drawdown(curve("100", "80", "90"))
    assert (dd.amount, dd.duration, dd.recovered) == (D("20"), timedelta(days=2), False)
    assert dd.fraction == pytest.approx(0.2)


def test_monthly_returns() -> None:
    """Jan 31: 1000; Feb 10: 1100, Feb 28: 1210; Mar 1: 1089 -> Jan 0, Feb +21%, Mar -10%."""
    points = [
        EquityPoint(datetime(2026, 1, 31, tzinfo=UTC), D("1000")),
        EquityPoint(datetime(2026, 2, 10, tzinfo=UTC), D("1100")),
        EquityPoint(datetime(2026, 2, 28, tzinfo=UTC), D("1210")),
        EquityPoint(datetime(2026, 3, 1, tzinfo=UTC), D("1089")),
    ]
    months = eq.monthly_returns(points)
    assert [m for m, _ in months] == ["2026-01", "2026-02", "2026-03"]
    assert [r for _, r in months] == pytest.approx([0.0, 0.21, -0.1])


@pytest.mark.parametrize(
    ("points", "sharpe_reason", "sortino_reason"),
    [
        ([], "fewer than two daily returns", "fewer than two daily returns"),
        (curve("1000"), "fewer than two daily returns", "fewer than two daily returns"),
        (curve("1000", "1100"), "fewer than two daily returns", "fewer than two daily returns"),
        (curve("1000", "1000", "1000"), "daily returns do not vary", "no losing daily return"),
        (curve("1000", "1100", "1210"), "daily returns do not vary", "no losing daily return"),
    ],
)
def test_degenerate_curves_say_why(
    points: list[EquityPoint], sharpe_reason: str, sortino_reason: str
) -> None:
    sharpe, sortino = eq.sharpe(points), eq.sortino(points)
    assert isinstance(sharpe, eq.Unavailable)
    assert sharpe.reason == sharpe_reason
    assert isinstance(sortino, eq.Unavailable)
    assert sortino.reason == sortino_reason


def test_one_point_and_non_positive_start() -> None:
    one = eq.total_return(curve("1000"))
    assert isinstance(one, eq.Unavailable)
    assert one.reason == "fewer than two equity points"
    zero = eq.total_return(curve("0", "10"))
    assert isinstance(zero, eq.Unavailable)
    assert "not positive" in zero.reason
    dd = eq.drawdown(curve("1000"))
    assert (dd.amount, dd.fraction, dd.duration, dd.recovered) == (D(0), 0.0, timedelta(0), True)
    assert eq.drawdown([]).fraction is None
